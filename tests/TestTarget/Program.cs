// TestTarget: a tiny "order service" whose heap is known exactly at every moment.
// Tests, the demo and the benchmarks drive it over stdin, one command per line; every command
// is answered with exactly one line that starts with "OK" or "ERR", so a driver can wait for it.
//
//   leak N      add N orders: N OrderStat objects and N key strings, kept by the static map (the leak)
//   clear       drop every order
//   report N    cache N CachedReport objects, each holding a long[16384] (the "cached report" leak)
//   uncache     drop the cached reports
//   churn on    allocate and drop garbage continuously on a background thread, so GCs happen
//   churn off   stop the churn
//   gc          run a full blocking GC
//   gccount     print how many gen 0, 1 and 2 collections have run (a test proves no other GC came between two moments)
//   count       print the current number of orders and reports
//   sessions    list the EventSources a diagnostic session has enabled in this process right now
//               (so a test can prove a collector ended its session)
//   comm B64    rename this process (its /proc comm, what ps and Process.ProcessName show) to the UTF-8 text
//               whose base64 is B64, as a hostile process may (e.g. to a name with escape sequences or CR/LF)
//   hostile B64 N  define a type at run time named by the base64 text B64 (any characters the runtime takes,
//               control characters included) and keep N instances of it; also publish an OrderService
//               Meter gauge of that name with a tag of that value, whose value is N
//   allocate MB allocate at least MB megabytes of each of three types, in interleaved rounds of about 100 KB each, from
//               three known methods (Billing.CreateInvoices: OrderService.Invoice objects; Billing.AddLines:
//               OrderService.InvoiceLine[] arrays; Billing.RenderPdf: OrderService.PdfByte[100_000], laid out as a byte[100_000]
//               but of a type nothing else allocates, on the large object heap), and reply
//               with each type's exact count and bytes as the runtime counts them (GC.GetAllocatedBytesForCurrentThread
//               around each call: the truth an allocation profile is checked against) and the seconds it took
//   exit        leave (end of stdin does the same, so a dead driver never leaves us running)
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Diagnostics.Tracing;
using System.Linq;
using System.Threading;

namespace OrderService
{
    public sealed class OrderStat
    {
        // 80 bytes per instance: 16 (header + method table) + 8 (string ref) + 8 + 8 + 8 + 16 (decimal) + 8 + 8.
        // Bigger than its 56-byte key string on purpose: in the story the map's values are what grows most.
        public string Id;
        public long CustomerId;
        public long Quantity;
        public double Price;
        public decimal Total;
        public DateTime Created;
        public DateTime Updated;

        public OrderStat(string id, long quantity, double price, DateTime created)
        {
            Id = id; CustomerId = quantity * 31; Quantity = quantity; Price = price; Total = (decimal)(price * quantity);
            Created = created; Updated = created;
        }
    }

    public sealed class CachedReport
    {
        public const int RowCount = 16384;
        public long[] Rows = new long[RowCount];
        public int Number;
        public CachedReport(int number) { Number = number; }
    }

    public static class Orders
    {
        // The story's "global map that keeps growing".
        public static Dictionary<string, OrderStat> byId = new Dictionary<string, OrderStat>();
        private static long nextId;

        public static void Leak(int n)
        {
            var now = DateTime.UtcNow;
            for (int i = 0; i < n; i++)
            {
                long id = ++nextId;
                string key = "order-" + id.ToString("D9");
                byId.Add(key, new OrderStat(key, id % 97, id * 0.25, now));
            }
        }

        public static void Clear()
        {
            // A new map, so the old one's arrays become garbage too.
            byId = new Dictionary<string, OrderStat>();
        }
    }

    public static class ReportCache
    {
        // The story's "cached report that keeps old arrays alive".
        public static List<CachedReport> cache = new List<CachedReport>();
        private static int nextNumber;

        public static void Add(int n)
        {
            for (int i = 0; i < n; i++) cache.Add(new CachedReport(++nextNumber));
        }

        public static void Drop() => cache = new List<CachedReport>();
    }

    public static class Churn
    {
        private static volatile bool running;
        private static Thread? thread;
        public static object? Sink;

        public static void Start()
        {
            if (running) return;
            running = true;
            thread = new Thread(Run) { IsBackground = true, Name = "churn" };
            thread.Start();
        }

        public static void Stop()
        {
            running = false;
            thread?.Join();
            thread = null;
        }

        private static void Run()
        {
            // About 100 MB/s of short-lived garbage, with a few survivors so gen1 GCs happen too.
            var survivors = new object[256];
            int round = 0;
            while (running)
            {
                for (int i = 0; i < 1000; i++)
                {
                    var garbage = new byte[1024];
                    garbage[0] = (byte)i;
                    Sink = garbage;
                }
                survivors[round++ % survivors.Length] = new byte[8192];
                Thread.Sleep(10);
            }
        }
    }

    /// <summary>The service's own telemetry: an EventCounter and a Meter instrument, both named OrderService,
    /// so tests can read a non-runtime provider and check the value against the known order count.</summary>
    [EventSource(Name = "OrderService")]
    public sealed class OrderEventSource : EventSource
    {
        public static readonly OrderEventSource Log = new OrderEventSource();
        private PollingCounter? ordersCounter;

        protected override void OnEventCommand(EventCommandEventArgs command)
        {
            if (command.Command == EventCommand.Enable)
                ordersCounter ??= new PollingCounter("orders-count", this, () => Orders.byId.Count) { DisplayName = "Orders in memory" };
        }
    }

    public static class OrderMeter
    {
        public static readonly Meter Meter = new Meter("OrderService");
        public static readonly ObservableGauge<int> OrdersGauge =
            Meter.CreateObservableGauge("orders.count", () => Orders.byId.Count, unit: "{order}", description: "Orders in memory");
    }

    /// <summary>Types and a Meter instrument with names a hostile process may choose, for tests of how they are shown.</summary>
    public static class Hostile
    {
        private static readonly List<object> keep = new List<object>();
        private static readonly List<System.Diagnostics.Metrics.ObservableGauge<int>> gauges = new List<System.Diagnostics.Metrics.ObservableGauge<int>>();
        public static int TypeCount;

        public static void Add(string name, int count)
        {
            var assembly = System.Reflection.Emit.AssemblyBuilder.DefineDynamicAssembly(
                new System.Reflection.AssemblyName("Hostile" + (++TypeCount)), System.Reflection.Emit.AssemblyBuilderAccess.Run);
            var type = assembly.DefineDynamicModule("Hostile").DefineType(name, System.Reflection.TypeAttributes.Public | System.Reflection.TypeAttributes.Class)
                .CreateType()!;
            for (int i = 0; i < count; i++) keep.Add(Activator.CreateInstance(type)!);
            gauges.Add(OrderMeter.Meter.CreateObservableGauge(name, () => new Measurement<int>(count, new KeyValuePair<string, object?>("tag", name))));
        }
    }

    public sealed class Invoice
    {
        public long Id;
        public long CustomerId;
        public decimal Amount;
        public DateTime Due;
        public Invoice(long id) { Id = id; CustomerId = id * 7; Amount = id; Due = DateTime.UnixEpoch; }
    }

    public struct InvoiceLine
    {
        public long Sku;
        public int Quantity;
        public int Cents;
    }

    /// <summary>One byte of a rendered page: an array of them is laid out as a byte[] but is a type only RenderPdf allocates.</summary>
    public struct PdfByte
    {
        public byte Value;
    }

    /// <summary>Known allocations from known methods (the "allocate" command): what an allocation profile must find.</summary>
    public static class Billing
    {
        public const int PdfSize = 100_000;   // above the 85,000-byte threshold: each one goes to the large object heap
        public const int InvoicesPerRound = 1786, LinesPerArray = 60, ArraysPerRound = 102;
        // Stored in statics so that the JIT cannot prove the objects do not escape and allocate them on the stack.
        public static Invoice? LastInvoice;
        public static InvoiceLine[]? LastLines;
        public static PdfByte[]? LastPdf;
        private static long nextInvoice;

        public sealed class Tally
        {
            public long Count, Bytes;
            public override string ToString() => $"{Count}:{Bytes}";
        }

        public static (Tally Invoices, Tally Lines, Tally Pdfs, double Seconds) Run(long bytesPerType)
        {
            var invoices = new Tally(); var lines = new Tally(); var pdfs = new Tally();
            var watch = Stopwatch.StartNew();
            while (invoices.Bytes < bytesPerType || lines.Bytes < bytesPerType || pdfs.Bytes < bytesPerType)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                CreateInvoices(InvoicesPerRound);
                long afterInvoices = GC.GetAllocatedBytesForCurrentThread();
                AddLines(ArraysPerRound);
                long afterLines = GC.GetAllocatedBytesForCurrentThread();
                RenderPdf();
                long afterPdf = GC.GetAllocatedBytesForCurrentThread();
                invoices.Count += InvoicesPerRound; invoices.Bytes += afterInvoices - before;
                lines.Count += ArraysPerRound; lines.Bytes += afterLines - afterInvoices;
                pdfs.Count += 1; pdfs.Bytes += afterPdf - afterLines;
            }
            return (invoices, lines, pdfs, watch.Elapsed.TotalSeconds);
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        public static void CreateInvoices(int n)
        {
            for (int i = 0; i < n; i++) LastInvoice = new Invoice(++nextInvoice);
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        public static void AddLines(int n)
        {
            for (int i = 0; i < n; i++) LastLines = new InvoiceLine[LinesPerArray];
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        public static void RenderPdf()
        {
            LastPdf = new PdfByte[PdfSize];
        }
    }

    public static class Program
    {
        public static int Main()
        {
            Console.Out.Flush();
            GC.KeepAlive(OrderEventSource.Log);
            GC.KeepAlive(OrderMeter.OrdersGauge);
            Console.WriteLine($"READY pid={Environment.ProcessId}");
            string? line;
            while ((line = Console.ReadLine()) != null)
            {
                string[] parts = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length == 0) continue;
                try
                {
                    switch (parts[0].ToLowerInvariant())
                    {
                        case "leak":
                            Orders.Leak(int.Parse(parts[1]));
                            Reply($"OK leak orders={Orders.byId.Count}");
                            break;
                        case "clear":
                            Orders.Clear();
                            Reply("OK clear orders=0");
                            break;
                        case "report":
                            ReportCache.Add(int.Parse(parts[1]));
                            Reply($"OK report reports={ReportCache.cache.Count}");
                            break;
                        case "uncache":
                            ReportCache.Drop();
                            Reply("OK uncache reports=0");
                            break;
                        case "churn":
                            if (parts.Length > 1 && parts[1] == "off") Churn.Stop(); else Churn.Start();
                            Reply($"OK churn {(parts.Length > 1 ? parts[1] : "on")}");
                            break;
                        case "gc":
                            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                            GC.WaitForPendingFinalizers();
                            Reply($"OK gc heap={GC.GetTotalMemory(false)}");
                            break;
                        case "gccount":
                            Reply($"OK gccount gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} gen2={GC.CollectionCount(2)}");
                            break;
                        case "count":
                            Reply($"OK count orders={Orders.byId.Count} reports={ReportCache.cache.Count}");
                            break;
                        case "sessions":
                            var enabled = EventSource.GetSources().Where(src => src.IsEnabled()).Select(src => src.Name).OrderBy(n => n);
                            Reply($"OK sessions enabled={string.Join(",", enabled)}");
                            break;
                        case "comm":
                            // The main thread's comm is the process's: the command loop runs on the main thread.
                            System.IO.File.WriteAllText("/proc/self/comm", FromBase64(parts[1]));
                            Reply("OK comm");
                            break;
                        case "hostile":
                            Hostile.Add(FromBase64(parts[1]), int.Parse(parts[2]));
                            Reply($"OK hostile types={Hostile.TypeCount}");
                            break;
                        case "allocate":
                            var (inv, lin, pdf, secs) = Billing.Run(long.Parse(parts[1]) * 1_000_000);
                            Reply($"OK allocate invoices={inv} lines={lin} pdfs={pdf} seconds={secs.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
                            break;
                        case "exit":
                            Reply("OK exit");
                            return 0;
                        default:
                            Reply($"ERR unknown command '{parts[0]}'");
                            break;
                    }
                }
                catch (Exception e)
                {
                    Reply($"ERR {e.GetType().Name}: {e.Message}");
                }
            }
            return 0;
        }

        private static string FromBase64(string b64) => System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(b64));

        private static void Reply(string s)
        {
            Console.WriteLine(s);
            Console.Out.Flush();
        }
    }
}

<#
.SYNOPSIS
    Collector memory and time of the retention engine alone (graph builder, paths, dominators), without ClrMD or
    EventPipe: a graph shaped like the TestTarget leak (a dictionary, its entry array, N OrderStat and N key strings,
    1.5 references per object) is fed through IHeapGraphSink in this process. Peak managed bytes are sampled every
    5 ms (GC.GetTotalMemory(false), so garbage not yet collected counts too).
        dotnet pwsh ./tests/Benchmarks/Measure-RetentionEngine.ps1 -Orders 2000000
#>
param([int] $Orders = 2000000, [string] $EnginePath = (Join-Path $PSScriptRoot '../../out/MemoryOps/0.1.0/lib/MemoryOps.Engine.dll'))
$EnginePath = (Resolve-Path $EnginePath).Path
# The engine alone, loaded straight into this session (not through the module's load context): its objects first.
Add-Type -Path (Join-Path (Split-Path (Split-Path $EnginePath)) 'MemoryOps.Model.dll')
Add-Type -Path $EnginePath
Add-Type -TypeDefinition @'
using System; using System.IO; using System.Threading;
public static class PeakSampler2 {
    static long peak; static Thread t; static volatile bool run;
    public static long Peak => Interlocked.Read(ref peak);
    public static void Start() { peak = 0; run = true; t = new Thread(() => { while (run) { long m = GC.GetTotalMemory(false); if (m > peak) Interlocked.Exchange(ref peak, m); Thread.Sleep(5); } }) { IsBackground = true }; t.Start(); }
    public static void Stop() { run = false; t.Join(); }
    public static MemoryOps.Engine.Retention.HeapGraph Leak(int orders) {
        var b = new MemoryOps.Engine.Retention.HeapGraphBuilder();
        ulong a = 0x10000;
        ulong dict = a; a += 80; ulong entries = a; a += (ulong)(orders * 24 + 24);
        b.OnNode(dict, 1, 80); b.OnEdge(dict, entries);
        b.OnNode(entries, 2, orders * 24 + 24);
        ulong first = a;
        for (int i = 0; i < orders; i++) { b.OnEdge(entries, first + (ulong)i * 112); b.OnEdge(entries, first + (ulong)i * 112 + 56); }
        for (int i = 0; i < orders; i++) { ulong o = first + (ulong)i * 112; b.OnNode(o, 3, 48); b.OnEdge(o, o + 56); b.OnNode(o + 56, 4, 56); }
        b.OnRoot(dict, MemoryOps.Engine.Heap.HeapRootKind.StaticField, "Orders.byId");
        b.OnTypeName(1, "Dict"); b.OnTypeName(2, "Dict+Entry[]"); b.OnTypeName(3, "OrderStat"); b.OnTypeName(4, "System.String");
        return b.Build();
    }
}
'@ -IgnoreWarnings -ReferencedAssemblies $EnginePath, System.Runtime, System.Threading, System.Threading.Thread, System.Collections, System.Console 3>$null
$base = [GC]::GetTotalMemory($true)
[PeakSampler2]::Start()
$w = [Diagnostics.Stopwatch]::StartNew()
$g = [PeakSampler2]::Leak($Orders)
$tBuild = $w.Elapsed.TotalSeconds
[PeakSampler2]::Stop()
$peakBuild = [PeakSampler2]::Peak - $base
$kept = [GC]::GetTotalMemory($true) - $base
$a = [MemoryOps.Engine.Retention.RetentionAnalyzer]::new($g)
[PeakSampler2]::Start()
$w.Restart()
$p = $a.Paths({ param($n) $n -eq 'OrderStat' }, 10, 5, [Threading.CancellationToken]::None)
$tPaths = $w.Elapsed.TotalSeconds
[PeakSampler2]::Stop()
$peakPaths = [PeakSampler2]::Peak - $base
$null = [GC]::GetTotalMemory($true)
[PeakSampler2]::Start()
$w.Restart()
$r = $a.RetainedSizes($null, 10, [Threading.CancellationToken]::None, $null)
$tRet = $w.Elapsed.TotalSeconds
[PeakSampler2]::Stop()
$peakRet = [PeakSampler2]::Peak - $base
$n = $g.NodeCount
"objects $n, references $($g.EdgeCount); graph arrays $([math]::Round($g.MemoryBytes/$n,1)) B/object, kept after build $([math]::Round($kept/$n,1)) B/object"
"peak managed (sampled, garbage included) while building $([math]::Round($peakBuild/$n,1)), finding paths $([math]::Round($peakPaths/$n,1)), computing retained sizes $([math]::Round($peakRet/$n,1)) B/object"
"time: build $([math]::Round($tBuild,2)) s, paths $([math]::Round($tPaths,2)) s, retained sizes $([math]::Round($tRet,2)) s"
"$($p[0].Count) x $($p[0].Path); top retainer $($r[0].TypeName) $($r[0].RetainedBytes) bytes"

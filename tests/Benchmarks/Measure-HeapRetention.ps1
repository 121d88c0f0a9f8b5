<#
.SYNOPSIS
    Time and collector memory of Get-HeapRetention on a leaking TestTarget, dump and live routes.
.DESCRIPTION
    Starts tests/TestTarget, makes it leak -Orders orders (2 objects each: an OrderStat and its key string) and
    cache 5 reports, writes a Heap dump, then runs each measurement in a fresh pwsh process so its peak RSS is
    its own: paths for OrderService.OrderStat, and -RetainedSize -Top 10. Reports wall time, the time the
    analysis alone took (from -Verbose), peak RSS over the process's RSS after Import-Module, the peak managed
    heap (sampled every 10 ms) over the same baseline, and both per heap object; plus the graph's own size.
    Run from the repository root after a build:
        dotnet pwsh ./tests/Benchmarks/Measure-HeapRetention.ps1 -Orders 2000000
#>
[CmdletBinding()]
param(
    [int] $Orders = 2000000,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/MemoryOps/0.1.0/MemoryOps.psd1'),
    [string] $WorkDirectory = ([IO.Path]::GetTempPath()),
    # A small gen0 budget (bytes) for the measured process, so the sampled managed heap tracks live data rather than
    # garbage waiting for a collection; 0 leaves the runtime's default.
    [long] $Gen0Size = 0,
    [ValidateSet('Dump', 'Live')] [string[]] $Route = @('Dump', 'Live')
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '../MemoryOps.Tests/TestTarget.psm1') -Force
$ModulePath = (Resolve-Path $ModulePath).Path

$measure = {
    param($ModulePath, $Arguments)
    Add-Type -TypeDefinition @'
using System; using System.IO; using System.Threading;
public static class PeakSampler {
    static long peakManaged; static Thread t; static volatile bool run;
    public static long PeakManaged => Interlocked.Read(ref peakManaged);
    public static void Start() { run = true; t = new Thread(() => { while (run) { long m = GC.GetTotalMemory(false); if (m > peakManaged) Interlocked.Exchange(ref peakManaged, m); Thread.Sleep(10); } }) { IsBackground = true }; t.Start(); }
    public static void Stop() { run = false; t.Join(); }
    public static long Kb(string key) { foreach (var l in File.ReadAllLines("/proc/self/status")) if (l.StartsWith(key + ":")) return long.Parse(l.Substring(key.Length + 1).Trim().Split(' ')[0]); return 0; }
}
'@
    Import-Module $ModulePath
    [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
    $rss0 = [PeakSampler]::Kb('VmRSS') * 1KB
    $managed0 = [GC]::GetTotalMemory($true)
    # VmHWM cannot be reset without privileges on every kernel; write 5 to clear_refs resets it where allowed.
    try { [IO.File]::WriteAllText('/proc/self/clear_refs', '5') } catch { }
    [PeakSampler]::Start()
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $command = if ($Arguments.ContainsKey('Command')) { $Arguments['Command']; $Arguments.Remove('Command') } else { 'Get-HeapRetention' }
    $out = & $command @Arguments -Verbose 4>&1
    $seconds = $watch.Elapsed.TotalSeconds
    [PeakSampler]::Stop()
    $verbose = @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
    $graphLine = $verbose | Where-Object { $_ -like 'Graph of *' } | Select-Object -First 1
    $analysisLine = $verbose | Where-Object { $_ -like 'Shortest paths*' -or $_ -like 'Retained sizes*' } | Select-Object -First 1
    [pscustomobject]@{
        Seconds         = [math]::Round($seconds, 2)
        GraphLine       = $graphLine
        AnalysisLine    = $analysisLine
        Objects         = if ($graphLine) { [long](($graphLine -replace '^Graph of ([\d,]+) objects.*$', '$1') -replace ',', '') } else { ($out | Where-Object { $_ -is [MemoryOps.HeapSnapshot] }).ObjectCount }
        PeakRssBytes    = [PeakSampler]::Kb('VmHWM') * 1KB
        BaseRssBytes    = $rss0
        PeakManaged     = [PeakSampler]::PeakManaged
        BaseManaged     = $managed0
        Results         = @($out | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }).Count
        First           = ($out | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] } | Select-Object -First 1 | ForEach-Object { if ($_.Path) { "$($_.Count) × $($_.Path)" } else { "$($_.TypeName) retains $($_.RetainedBytes)" } })
    } | ConvertTo-Json -Compress
}

$target = Start-TestTarget
try {
    Send-TestTarget $target "leak $Orders" | Out-Null
    Send-TestTarget $target 'report 5' | Out-Null
    Import-Module $ModulePath
    $dump = New-MemoryDump -ProcessId $target.ProcessId -Path $WorkDirectory
    $cases = @(
        @{ Route = 'Dump'; Analysis = 'New-HeapSnapshot (baseline, no graph)'; Arguments = @{ Command = 'New-HeapSnapshot'; DumpPath = $dump.Path } }
        @{ Route = 'Live'; Analysis = 'New-HeapSnapshot (baseline, no graph)'; Arguments = @{ Command = 'New-HeapSnapshot'; ProcessId = $target.ProcessId } }
        @{ Route = 'Dump'; Analysis = 'Paths'; Arguments = @{ DumpPath = $dump.Path; TypeName = 'OrderService.OrderStat' } }
        @{ Route = 'Dump'; Analysis = 'RetainedSize'; Arguments = @{ DumpPath = $dump.Path; RetainedSize = $true } }
        @{ Route = 'Live'; Analysis = 'Paths'; Arguments = @{ ProcessId = $target.ProcessId; TypeName = 'OrderService.OrderStat' } }
        @{ Route = 'Live'; Analysis = 'RetainedSize'; Arguments = @{ ProcessId = $target.ProcessId; RetainedSize = $true } }
    )
    if ($Gen0Size -gt 0) { $env:DOTNET_GCgen0MaxBudget = '0x{0:x}' -f $Gen0Size }
    foreach ($case in $cases | Where-Object { $_.Route -in $Route }) {
        $json = & dotnet pwsh -NoProfile -NonInteractive -c "& { $measure } '$ModulePath' $(
            '@{' + (($case.Arguments.GetEnumerator() | ForEach-Object { if ($_.Value -is [bool]) { "$($_.Key)=`$true" } elseif ($_.Value -is [int]) { "$($_.Key)=$($_.Value)" } else { "$($_.Key)='$($_.Value)'" } }) -join ';') + '}')" | Select-Object -Last 1
        $r = $json | ConvertFrom-Json
        [pscustomobject]@{
            Route              = $case.Route
            Analysis           = $case.Analysis
            Objects            = $r.Objects
            Seconds            = $r.Seconds
            Analysis_s         = if ($r.AnalysisLine -match 'in ([\d.]+) s') { [double]$Matches[1] } else { $null }
            PeakRssOverBaseMB  = [math]::Round(($r.PeakRssBytes - $r.BaseRssBytes) / 1MB, 1)
            RssBytesPerObject  = [math]::Round(($r.PeakRssBytes - $r.BaseRssBytes) / [math]::Max(1, $r.Objects), 1)
            PeakManagedMB      = [math]::Round(($r.PeakManaged - $r.BaseManaged) / 1MB, 1)
            ManagedPerObject   = [math]::Round(($r.PeakManaged - $r.BaseManaged) / [math]::Max(1, $r.Objects), 1)
            Graph              = $r.GraphLine
            First              = $r.First
        }
    }
} finally {
    Remove-Item Env:DOTNET_GCgen0MaxBudget -ErrorAction SilentlyContinue
    $target | Stop-TestTarget
    if ($dump) { Remove-Item $dump.Path -ErrorAction SilentlyContinue }
}

<#
    What an allocation profile costs the target: Get-AllocationProfile's session (randomized sampling, with and without
    call stacks, and the GCAllocationTick fallback) against no session, on the same TestTarget.

    Two measures per mode, with the session open, in interleaved rounds (every mode once per round, so a change in the
    load of this shared machine hits all modes alike; medians of the rounds):
      - allocation cost: the target's "allocate MB" command allocates flat out (three types, one on the LOH); the
        target's CPU time for it (all its threads, the GC's included, from /proc/<pid>/stat) per GB allocated, and the
        wall time it reported. The slowdown is the worst case, a thread that does nothing but allocate. CPU time is the
        figure to read on a busy machine: the wall time also counts the time other processes held the cores;
      - CPU: the target's "churn" (about 100 MB/s of 1 KB arrays, paced by sleeps) for a fixed window, its CPU time read
        from /proc/<pid>/stat, and the collector's (this pwsh process's, which does nothing else meanwhile).

    Writes its section of docs/performance.md between the allocation markers (Invoke-Benchmark.ps1 keeps it):
        dotnet pwsh ./tests/Benchmarks/Measure-AllocationProfile.ps1
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/MemoryOps/0.1.0/MemoryOps.psd1'),
    [int] $Rounds = 3,
    [int] $AllocateMB = 1000,
    [int] $ChurnSeconds = 5,
    [string] $OutputPath = (Join-Path $PSScriptRoot '../../docs/performance.md')
)

$ErrorActionPreference = 'Stop'
$root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$env:MEMORYOPS_MODULE_PATH = (Resolve-Path $ModulePath).Path
Import-Module $env:MEMORYOPS_MODULE_PATH -Force
Import-Module (Join-Path $root 'tests/MemoryOps.Tests/TestTarget.psm1') -Force
Import-Module (Join-Path $PSScriptRoot 'Benchmark.psm1') -Force   # Get-ProcCpuSeconds

function Measure-Mode([string] $Mode, [hashtable] $Parameters) {
    $collector = $null
    try {
        if ($null -ne $Parameters) {
            $collector = [PowerShell]::Create()
            # One script, not a batch of statements: stopping a batch mid-way takes the PowerShell process down.
            $script = 'param($m, $id, $p) Import-Module $m; Get-AllocationProfile -ProcessId $id -Duration 600 -Verbose @p'
            $null = $collector.AddScript($script).AddArgument($env:MEMORYOPS_MODULE_PATH).AddArgument($target.ProcessId).AddArgument($Parameters)
            $async = $collector.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not ($collector.Streams.Verbose | Where-Object Message -like '*the session is open*')) {
                if ([DateTime]::UtcNow -gt $deadline -or $async.IsCompleted) { throw "The $Mode session did not open: $($collector.Streams.Error)" }
                Start-Sleep -Milliseconds 50
            }
        }
        $cpuBefore = Get-ProcCpuSeconds $target.ProcessId
        $seconds = [double]((Send-TestTarget $target "allocate $AllocateMB") -replace '.*seconds=', '')
        $allocateCpu = (Get-ProcCpuSeconds $target.ProcessId) - $cpuBefore
        $null = Send-TestTarget $target 'churn on'
        $targetBefore = Get-ProcCpuSeconds $target.ProcessId
        $selfBefore = Get-ProcCpuSeconds $PID
        $clock = [Diagnostics.Stopwatch]::StartNew()
        Start-Sleep -Seconds $ChurnSeconds
        $targetCpu = (Get-ProcCpuSeconds $target.ProcessId) - $targetBefore
        $selfCpu = (Get-ProcCpuSeconds $PID) - $selfBefore
        $wall = $clock.Elapsed.TotalSeconds
        $null = Send-TestTarget $target 'churn off'
        [pscustomobject]@{
            Mode = $Mode
            AllocateSeconds = $seconds
            CpuSecondsPerGB = $allocateCpu / (3 * $AllocateMB / 1000)
            TargetCpuPercent = 100 * $targetCpu / $wall
            CollectorCpuPercent = 100 * $selfCpu / $wall
        }
    } finally {
        if ($collector) { $collector.Stop(); $collector.Dispose() }
    }
}

$modes = [ordered]@{
    'no session' = $null
    'Randomized (AllocationSampled)' = @{}
    'Randomized with -Stack' = @{ Stack = $true }
    'AllocationTick (fallback)' = @{ Method = 'AllocationTick' }
}
$target = Start-TestTarget
try {
    $null = Send-TestTarget $target "allocate $AllocateMB"   # compiled and warm before anything is measured
    $all = foreach ($round in 1..$Rounds) { foreach ($m in $modes.Keys) { Measure-Mode $m $modes[$m] } }
} finally { $target | Stop-TestTarget }
function Median([double[]] $v) { ($v | Sort-Object)[[int][Math]::Floor($v.Count / 2)] }
$rows = foreach ($m in $modes.Keys) {
    $r = @($all | Where-Object Mode -eq $m)
    [pscustomobject]@{
        Mode = $m
        CpuSecondsPerGB = Median $r.CpuSecondsPerGB
        AllocateMBps = 3 * $AllocateMB / (Median $r.AllocateSeconds)
        TargetCpuPercent = Median $r.TargetCpuPercent
        CollectorCpuPercent = Median $r.CollectorCpuPercent
    }
}
$all | Format-Table | Out-String -Width 160 | Write-Host
$none = $rows | Where-Object Mode -eq 'no session'

$md = [Text.StringBuilder]::new()
function L([string] $s = '') { [void]$md.AppendLine($s) }
L '<!-- allocation:begin -->'
L '## What an allocation profile costs the target'
L
L ("Measured {0:yyyy-MM-dd} on this machine ({1} cores, load {2} at the end: busy, shared with other sessions) by ``tests/Benchmarks/Measure-AllocationProfile.ps1`` on one TestTarget, a Get-AllocationProfile session open in each mode; medians of {3} interleaved rounds. Allocation: the target's ``allocate {4}`` ({5:N0} MB of three types, one on the LOH, flat out on one thread): the target's CPU time (all threads, GC included) per GB, and the throughput it reported. Churn: about 100 MB/s of 1 KB arrays paced by sleeps, over {6} s: the target's CPU, and the collector's (the pwsh process running the session)." -f (Get-Date), [Environment]::ProcessorCount, ((Get-Content /proc/loadavg) -split ' ')[0], $Rounds, $AllocateMB, (3 * $AllocateMB), $ChurnSeconds)
L
L '| session | target CPU per GB allocated | vs. no session | throughput (wall) | target CPU under churn (% of a core) | collector CPU under churn (% of a core) |'
L '|---|---|---|---|---|---|'
foreach ($r in $rows) {
    L ("| {0} | {1:N3} s | {2:+0.0;-0.0;0.0} % | {3:N0} MB/s | {4:N1} % | {5:N1} % |" -f $r.Mode, $r.CpuSecondsPerGB, (100 * ($r.CpuSecondsPerGB / $none.CpuSecondsPerGB - 1)), $r.AllocateMBps, $r.TargetCpuPercent, $r.CollectorCpuPercent)
}
L
$random = $rows | Where-Object Mode -like 'Randomized (*'
$extra = $random.CpuSecondsPerGB - $none.CpuSecondsPerGB
L ("In absolute terms the session costs the target {0:N0} ms of CPU per GB it allocates: a service allocating 100 MB/s pays about {1:N1} % of a core, and the churn above (about 100 MB/s) paid {2:+0.0;-0.0} points. The relative figure is the worst case, a loop that does nothing but allocate (about {3:N0} MB/s here); a service that does work between allocations pays the same milliseconds per GB, a much smaller share." -f (1000 * $extra), (10 * $extra), ($random.TargetCpuPercent - $none.TargetCpuPercent), $none.AllocateMBps)
L
L 'Randomized sampling costs the target one event per ~100 KB allocated (the check is folded into the allocation fast path''s limit, so unsampled allocations pay nothing); `-Stack` adds a stack walk per sample and the rundown at the end of the window.'
L "Reproduce: ``dotnet pwsh ./tests/Benchmarks/Measure-AllocationProfile.ps1`` (after ``build.ps1 -Task Build``)."
L '<!-- allocation:end -->'
$section = $md.ToString().TrimEnd()
$text = if (Test-Path $OutputPath) { Get-Content $OutputPath -Raw } else { '' }
if ($text -match '(?s)<!-- allocation:begin -->.*?<!-- allocation:end -->') {
    $text = [regex]::Replace($text, '(?s)<!-- allocation:begin -->.*?<!-- allocation:end -->', [Text.RegularExpressions.MatchEvaluator] { param($m) $section })
} elseif ($text -match '## Reproduce') {
    $text = $text.Replace('## Reproduce', "$section`n`n## Reproduce")
} else { $text = $text.TrimEnd() + "`n`n$section`n" }
Set-Content -Path $OutputPath -Value $text.TrimEnd() -NoNewline
Write-Host $section

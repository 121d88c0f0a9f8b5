#Requires -Version 7.4
<#
.SYNOPSIS
    Side-by-side benchmarks of MemoryOps against the Microsoft diagnostics tools; writes docs/performance.md.
.DESCRIPTION
    Every scenario runs MemoryOps (A) and the anchor tool (B) alternately, A B A B, on the same TestTarget state:
    one warm-up of each, then -Runs measured runs of each; medians of wall time and of the collecting process's
    peak resident memory (/usr/bin/time's maximum RSS), and their ratio A/B.

    MemoryOps is measured as a user meets it, a fresh pwsh that imports the module and runs the cmdlet
    ("fresh"; bare pwsh start-up is measured on its own and reported), and inside this already warm session
    ("warm"; memory is then the peak the cmdlet added to this process). The anchors and pwsh run as
    `dotnet <tool dll>` from the pinned tool packages (.config/dotnet-tools.json), as a globally installed
    tool runs, so neither side pays the SDK's local-tool lookup.

    This is a measurement, not a test: nothing here fails on a slow number.
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Bench
.EXAMPLE
    # a quick pass while developing: small heap, one run, no scaling
    dotnet pwsh ./tests/Benchmarks/Invoke-Benchmark.ps1 -Orders 100000 -Runs 1 -ScaleOrders @() -OutputPath /tmp/perf.md
#>
[CmdletBinding()]
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/MemoryOps/0.1.0/MemoryOps.psd1'),
    # Orders leaked into the TestTarget for the main table (each is an OrderStat and its key string).
    [int] $Orders = 2000000,
    [int] $Runs = 3,
    # Scaling of the two snapshot scenarios; the size equal to -Orders reuses the main table's runs.
    [int[]] $ScaleOrders = @(250000, 1000000, 2000000, 4000000),
    # Runs at sizes above 3 M orders (each takes long); no warm-up there either.
    [int] $LargeRuns = 2,
    [ValidateSet('DumpWrite', 'DumpRead', 'Live', 'Counters', 'Cpu', 'Synthetic', 'Import', 'Scaling')]
    [string[]] $Scenario = @('DumpWrite', 'DumpRead', 'Live', 'Counters', 'Cpu', 'Synthetic', 'Import', 'Scaling'),
    [string] $OutputPath = (Join-Path $PSScriptRoot '../../docs/performance.md'),
    [int] $SyntheticTypes = 50000,
    # The 1-minute load average before build.ps1 built the module (passed by build.ps1 -Task Bench).
    [string] $LoadBeforeBuild = ''
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
Import-Module (Join-Path $PSScriptRoot 'Benchmark.psm1') -Force
Import-Module (Join-Path $root 'tests/MemoryOps.Tests/TestTarget.psm1') -Force
$ModulePath = (Resolve-Path $ModulePath).Path
Import-Module $ModulePath -Force   # the warm session
$total = [Diagnostics.Stopwatch]::StartNew()
$loadStart = (Get-Content /proc/loadavg) -split ' ' | Select-Object -First 3

# Fresh MemoryOps runs in pwsh as Linux hosts have it: Microsoft's packages ship it ReadyToRun; the global-tool
# package pinned here is IL only, so it is compiled the same way once (Get-ReadyToRunPwsh) and both are measured at import.
$toolPwshDll = (Get-ToolDll powershell pwsh.dll).Path
$pwshDll = Get-ReadyToRunPwsh -ToolDll $toolPwshDll
$gcdump = Get-ToolDll dotnet-gcdump dotnet-gcdump.dll
$dumpTool = Get-ToolDll dotnet-dump dotnet-dump.dll
$counters = Get-ToolDll dotnet-counters dotnet-counters.dll
$work = Join-Path ([IO.Path]::GetTempPath()) "memoryops-bench-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
New-Item -ItemType Directory $work | Out-Null

function Invoke-FreshPwsh {
    <# A fresh pwsh that imports the module and runs $Command. #>
    param([string] $Command, [string] $FirstLinePattern)
    Invoke-Measured -Arguments @($pwshDll, '-NoProfile', '-NonInteractive', '-c', "Import-Module '$ModulePath'; $Command") -FirstLinePattern $FirstLinePattern
}

function Step { param([string] $Text) Write-Host ("[{0,6:N0} s, load {1}] {2}" -f $total.Elapsed.TotalSeconds, ((Get-Content /proc/loadavg) -split ' ')[0], $Text) -ForegroundColor Cyan }

function New-Target {
    param([int] $Count)
    $t = Start-TestTarget
    if ($Count -gt 0) { Send-TestTarget $t "leak $Count" -TimeoutSeconds 600 | Out-Null }
    $heap = [long]((Send-TestTarget $t 'gc') -replace '^.*heap=', '')
    $t | Add-Member -NotePropertyName HeapBytes -NotePropertyValue $heap -PassThru
}

function ConvertFrom-GcDumpReport {
    <# Per-type counts from `dotnet-gcdump report` lines, as Get-GcDumpHeapStat (TestTarget.psm1) parses them. #>
    param([string[]] $Lines)
    $rows = foreach ($line in $Lines) {
        if ($line -match '^\s*[\d,]+\s+([\d,]+)\s+(.+?)\s*$') {
            [pscustomobject]@{ TypeName = ($Matches[2] -replace '\s+\[[^\]]+\]$', '' -replace '\s+\(Bytes > [^)]+\)$', ''); Count = [long]($Matches[1] -replace ',', '') }
        }
    }
    $map = @{}
    foreach ($r in $rows) { $map[$r.TypeName] = $map[$r.TypeName] + $r.Count }
    $map
}

function ConvertFrom-SosHeapStat {
    <# SOS dumpheap -stat lines to TypeName -> (Count, Bytes), as Get-SosHeapStat (TestTarget.psm1) parses them. #>
    param([string[]] $Lines)
    $map = @{}
    foreach ($line in $Lines) {
        if ($line -match '^\s*[0-9a-f]{6,16}\s+([\d,]+)\s+([\d,]+)\s+(.+?)\s*$') {
            $name = $Matches[3]; $c = [long]($Matches[1] -replace ',', ''); $b = [long]($Matches[2] -replace ',', '')
            if ($map.ContainsKey($name)) { $map[$name] = @($map[$name][0] + $c, $map[$name][1] + $b) } else { $map[$name] = @($c, $b) }
        }
    }
    $map
}

# --- one side of each scenario ------------------------------------------------------------------
function Invoke-GcDumpAnchor {
    param([int] $ProcessId)
    $file = Join-Path $work "live-$ProcessId.gcdump"
    try {
        $c = Invoke-Measured @($gcdump.Path, 'collect', '-p', "$ProcessId", '-o', $file)
        $r = Invoke-Measured @($gcdump.Path, 'report', $file)
        [pscustomobject]@{ Wall = $c.Wall + $r.Wall; PeakMB = [Math]::Max($c.PeakMB, $r.PeakMB); CpuSeconds = $c.CpuSeconds + $r.CpuSeconds; CollectWall = $c.Wall; CollectPeakMB = $c.PeakMB; ReportWall = $r.Wall; Output = $r.Output }
    } finally { Remove-Item $file -ErrorAction SilentlyContinue }
}

function Measure-TargetCpuOf {
    <# Runs $Script and adds the CPU seconds the target spent meanwhile (its GC and heap walk, its event writing). #>
    param([int] $ProcessId, [scriptblock] $Script)
    $c0 = Get-ProcCpuSeconds $ProcessId
    $r = & $Script
    $r | Add-Member -NotePropertyName TargetCpu -NotePropertyValue ((Get-ProcCpuSeconds $ProcessId) - $c0) -PassThru
}

function Invoke-LiveSnapshotScenario {
    param($Target, [int] $RunCount, [switch] $NoWarmUp, [switch] $Warm)
    $tpid = $Target.ProcessId
    $alt = Invoke-Alternating -Name 'live snapshot' -Runs $RunCount -NoWarmUp:$NoWarmUp `
        -A { Measure-TargetCpuOf $tpid { Invoke-FreshPwsh "`$s = New-HeapSnapshot -ProcessId $tpid; 'OBJECTS ' + `$s.ObjectCount + ' TYPES ' + `$s.Types.Count" } } `
        -B { Measure-TargetCpuOf $tpid { Invoke-GcDumpAnchor $tpid } }
    $objects = if (($alt.A[-1].Output -join "`n") -match 'OBJECTS (\d+) TYPES (\d+)') { [long]$Matches[1], [long]$Matches[2] } else { 0, 0 }
    $result = [ordered]@{ A = Get-RunSummary $alt.A; B = Get-RunSummary $alt.B; Objects = $objects[0]; Types = $objects[1]
        GcDumpCollect = Get-Median ($alt.B | ForEach-Object CollectWall); GcDumpReport = Get-Median ($alt.B | ForEach-Object ReportWall)
        GcDumpCollectPeakMB = Get-Median ($alt.B | ForEach-Object CollectPeakMB)
        TargetCpuA = Get-Median ($alt.A | ForEach-Object TargetCpu); TargetCpuB = Get-Median ($alt.B | ForEach-Object TargetCpu)
        CollectorCpuA = Get-Median ($alt.A | ForEach-Object CpuSeconds); CollectorCpuB = Get-Median ($alt.B | ForEach-Object CpuSeconds) }
    if ($Warm) {
        $warmRuns = @(1..$RunCount | ForEach-Object { Measure-InSession { New-HeapSnapshot -ProcessId $tpid } })
        $result.Warm = Get-RunSummary $warmRuns
        # Same per-type counts: our warm snapshot against the last dotnet-gcdump report, for the app's types and strings.
        $snap = $warmRuns[-1].Result
        $theirs = ConvertFrom-GcDumpReport $alt.B[-1].Output
        $result.Counts = foreach ($name in @('OrderService.OrderStat', 'System.String')) {
            $ours = ($snap.Types | Where-Object TypeName -eq $name | Select-Object -First 1)
            [pscustomobject]@{ TypeName = $name; MemoryOps = if ($ours) { $ours.Count } else { 0 }; GcDump = $theirs[$name] }
        }
    }
    [pscustomobject]$result
}

function Invoke-DumpReadScenario {
    param([string] $Dump, [int] $RunCount, [switch] $NoWarmUp, [switch] $Warm)
    $alt = Invoke-Alternating -Name 'dump read' -Runs $RunCount -NoWarmUp:$NoWarmUp `
        -A { Invoke-FreshPwsh "`$s = New-HeapSnapshot -DumpPath '$Dump'; 'OBJECTS ' + `$s.ObjectCount + ' TYPES ' + `$s.Types.Count" } `
        -B { Invoke-Measured @($dumpTool.Path, 'analyze', $Dump, '-c', 'dumpheap -stat', '-c', 'exit') }
    $objects = if (($alt.A[-1].Output -join "`n") -match 'OBJECTS (\d+) TYPES (\d+)') { [long]$Matches[1], [long]$Matches[2] } else { 0, 0 }
    $result = [ordered]@{ A = Get-RunSummary $alt.A; B = Get-RunSummary $alt.B; Objects = $objects[0]; Types = $objects[1] }
    if ($Warm) {
        $warmRuns = @(1..$RunCount | ForEach-Object { Measure-InSession { New-HeapSnapshot -DumpPath $Dump } })
        $result.Warm = Get-RunSummary $warmRuns
        # Identical numbers: every SOS row against ours.
        $sos = ConvertFrom-SosHeapStat $alt.B[-1].Output
        $ours = @{}; foreach ($t in $warmRuns[-1].Result.Types) { $ours[$t.TypeName] = $t }
        $bad = @(foreach ($name in $sos.Keys) {
                $m = $ours[$name]
                if ($null -eq $m -or $m.Count -ne $sos[$name][0] -or $m.TotalBytes -ne $sos[$name][1]) { $name }
            })
        $result.Identity = [pscustomobject]@{ SosTypes = $sos.Count; OurTypes = $ours.Count; Mismatches = $bad.Count; Examples = ($bad | Select-Object -First 3) -join '; ' }
    }
    [pscustomobject]$result
}

function New-SyntheticSnapshot {
    <# $Count types; the difference snapshot drops 1% of them, adds 1% new ones and grows every tenth. #>
    param([int] $Count, [switch] $Difference)
    $s = [MemoryOps.HeapSnapshot]::new()
    $s.Source = 'Dump'; $s.ProcessName = 'Synthetic'; $s.Timestamp = [DateTime]::UtcNow; $s.RuntimeVersion = '10.0.12'
    $list = [Collections.Generic.List[MemoryOps.HeapTypeStat]]::new($Count)
    $rnd = [Random]::new(42)
    for ($i = 0; $i -lt $Count; $i++) {
        if ($Difference -and $i % 100 -eq 7) { continue }
        $n = [long]$rnd.Next(1, 100000)
        if ($Difference -and $i % 10 -eq 3) { $n += 500 }
        $name = "Contoso.Area$($i % 97).Feature$($i % 1013).Type$i<System.String, Contoso.Key$($i % 31)>"
        $list.Add([MemoryOps.HeapTypeStat]@{ TypeName = $name; Count = $n; TotalBytes = $n * (24 + 8 * ($i % 20)) })
    }
    if ($Difference) { for ($i = 0; $i -lt $Count / 100; $i++) { $list.Add([MemoryOps.HeapTypeStat]@{ TypeName = "Contoso.New.Type$i"; Count = 10; TotalBytes = 480 }) } }
    $s.Types = $list
    $s.ObjectCount = ($list | Measure-Object Count -Sum).Sum
    $s.TotalBytes = ($list | Measure-Object TotalBytes -Sum).Sum
    $s
}

# --- the run ------------------------------------------------------------------------------------
$results = [ordered]@{}
$mainTarget = $null
try {
    Step "bare pwsh start-up and module import ($([Math]::Max($Runs, 5)) runs each)"
    if ('Import' -in $Scenario) {
        # An empty script module shows what the first Import-Module of any module costs in a fresh pwsh.
        $empty = Join-Path $work 'Empty/Empty.psd1'
        New-Item -ItemType Directory (Split-Path $empty) | Out-Null
        Set-Content (Join-Path $work 'Empty/Empty.psm1') ''
        Set-Content $empty "@{ RootModule = 'Empty.psm1'; ModuleVersion = '1.0.0'; GUID = '$([guid]::NewGuid())'; FunctionsToExport = @() }"
        $emptyRuns = [Collections.Generic.List[object]]::new()
        $alt = Invoke-Alternating -Name 'import' -Runs ([Math]::Max($Runs, 5)) `
            -A { Invoke-Measured @($pwshDll, '-NoProfile', '-NonInteractive', '-c', "Import-Module '$ModulePath'") } `
            -B { $emptyRuns.Add((Invoke-Measured @($pwshDll, '-NoProfile', '-NonInteractive', '-c', "Import-Module '$empty'"))); Invoke-Measured @($pwshDll, '-NoProfile', '-NonInteractive', '-c', 'exit') }
        $results.Import = [pscustomobject]@{ A = Get-RunSummary $alt.A; B = Get-RunSummary $alt.B; Empty = Get-RunSummary ($emptyRuns | Select-Object -Last ([Math]::Max($Runs, 5))) }
        # The same with the IL-only pwsh of the global-tool package, which JIT-compiles PowerShell's module loading too.
        $toolEmpty = [Collections.Generic.List[object]]::new()
        $altTool = Invoke-Alternating -Name 'import (IL-only pwsh)' -Runs ([Math]::Max($Runs, 5)) `
            -A { Invoke-Measured @($toolPwshDll, '-NoProfile', '-NonInteractive', '-c', "Import-Module '$ModulePath'") } `
            -B { $toolEmpty.Add((Invoke-Measured @($toolPwshDll, '-NoProfile', '-NonInteractive', '-c', "Import-Module '$empty'"))); Invoke-Measured @($toolPwshDll, '-NoProfile', '-NonInteractive', '-c', 'exit') }
        $results.ImportTool = [pscustomobject]@{ A = Get-RunSummary $altTool.A; B = Get-RunSummary $altTool.B; Empty = Get-RunSummary ($toolEmpty | Select-Object -Last ([Math]::Max($Runs, 5))) }
    }
    $bare = if ($results.Contains('Import')) { $results.Import.B.Wall } else { [double]::NaN }

    Step "TestTarget with $Orders orders"
    $mainTarget = New-Target $Orders
    $results.Heap = $mainTarget.HeapBytes
    $tpid = $mainTarget.ProcessId
    $mainDump = Join-Path $work 'main.dmp'

    if ('DumpWrite' -in $Scenario -or 'DumpRead' -in $Scenario) {
        Step 'write a Heap dump'
        $i = 0
        if ('DumpWrite' -in $Scenario) {
            $alt = Invoke-Alternating -Name 'dump write' -Runs $Runs `
                -A { $f = Join-Path $work "a$((++$script:i)).dmp"; try { Invoke-FreshPwsh "New-MemoryDump -ProcessId $tpid -Type Heap -Path '$f' | Out-Null" } finally { Remove-Item $f -ErrorAction SilentlyContinue } } `
                -B { $f = Join-Path $work "b$((++$script:i)).dmp"; try { Invoke-Measured @($dumpTool.Path, 'collect', '-p', "$tpid", '--type', 'Heap', '-o', $f) } finally { Remove-Item $f -ErrorAction SilentlyContinue } }
            $warmRuns = @(1..$Runs | ForEach-Object { $f = Join-Path $work "w$_.dmp"; try { Measure-InSession { New-MemoryDump -ProcessId $tpid -Type Heap -Path $f | Out-Null } } finally { Remove-Item $f -ErrorAction SilentlyContinue } })
            $results.DumpWrite = [pscustomobject]@{ A = Get-RunSummary $alt.A; B = Get-RunSummary $alt.B; Warm = Get-RunSummary $warmRuns }
        }
        $info = New-MemoryDump -ProcessId $tpid -Type Heap -Path $mainDump
        $results.DumpSizeBytes = $info.SizeBytes
    }
    if ('DumpRead' -in $Scenario) {
        Step 'per-type stats from the Heap dump'
        $results.DumpRead = Invoke-DumpReadScenario -Dump $mainDump -RunCount $Runs -Warm
    }
    if ('Live' -in $Scenario) {
        Step 'live heap snapshot'
        $results.Live = Invoke-LiveSnapshotScenario -Target $mainTarget -RunCount $Runs -Warm
    }
    if ('Counters' -in $Scenario) {
        Step 'first counter sample at 1 s interval'
        # dotnet-counters collect writes its file only when it ends, so the first sample a user can see is
        # dotnet-counters monitor's first table (the same session code); its lines end with the value.
        $valueLine = '^\s+\S.*\s-?\d[\d.,]*\s*$'
        $pairs = [ordered]@{
            EventCounter = @('gc-heap-size', 'EventCounters\System.Runtime[gc-heap-size]')
            Meter = @('dotnet.gc.last_collection.heap.size', 'System.Runtime[dotnet.gc.last_collection.heap.size]')
        }
        $results.Counters = [ordered]@{}
        foreach ($kind in $pairs.Keys) {
            $ours, $theirs = $pairs[$kind]
            $alt = Invoke-Alternating -Name "first sample ($kind)" -Runs $Runs `
                -A { Invoke-FreshPwsh "Get-GcCounter -ProcessId $tpid -Counter $ours -Interval 1 -MaxSamples 1 | ForEach-Object { 'SAMPLE ' + `$_.Value }" -FirstLinePattern '^SAMPLE' } `
                -B { Invoke-Measured @($counters.Path, 'monitor', '-p', "$tpid", '--refresh-interval', '1', '--duration', '00:00:00:04', '--counters', $theirs) -FirstLinePattern $valueLine }
            $warmRuns = @(1..$Runs | ForEach-Object { Measure-InSession { Get-GcCounter -ProcessId $tpid -Counter $ours -Interval 1 -MaxSamples 1 } })
            $results.Counters[$kind] = [pscustomobject]@{ A = Get-RunSummary $alt.A; B = Get-RunSummary $alt.B; Warm = Get-RunSummary $warmRuns }
        }
    }
    if ('Cpu' -in $Scenario) {
        Step 'CPU a 1 s counter session adds to the target'
        $window = 10
        function Measure-TargetCpu {
            param([int] $Seconds)
            $c0 = Get-ProcCpuSeconds $tpid; $w = [Diagnostics.Stopwatch]::StartNew()
            Start-Sleep -Seconds $Seconds
            $c1 = Get-ProcCpuSeconds $tpid
            100 * ($c1 - $c0) / $w.Elapsed.TotalSeconds
        }
        function Measure-WithSession {
            param([string[]] $Arguments)
            $psi = [Diagnostics.ProcessStartInfo]::new('dotnet')
            foreach ($a in $Arguments) { $psi.ArgumentList.Add($a) }
            $psi.RedirectStandardOutput = $true; $psi.RedirectStandardInput = $true; $psi.UseShellExecute = $false; $psi.WorkingDirectory = $root
            $p = [Diagnostics.Process]::Start($psi)
            $drain = $p.StandardOutput.ReadToEndAsync()
            Start-Sleep -Seconds 4   # start-up and the session's first round are not the steady state
            $pct = Measure-TargetCpu $window
            $p.WaitForExit(30000) | Out-Null
            if (-not $p.HasExited) { $p.Kill($true) }
            $p.Dispose()
            $pct
        }
        $duration = $window + 6
        $idle = @(); $ours = @(); $theirs = @()
        for ($r = 0; $r -lt 2; $r++) {
            $idle += Measure-TargetCpu $window
            $ours += Measure-WithSession @($pwshDll, '-NoProfile', '-NonInteractive', '-c', "Import-Module '$ModulePath'; Get-GcCounter -ProcessId $tpid -Interval 1 -Duration $duration | Out-Null")
            $theirs += Measure-WithSession @($counters.Path, 'collect', '-p', "$tpid", '--refresh-interval', '1', '--duration', "00:00:00:$duration", '-o', (Join-Path $work 'cpu.csv'))
        }
        $results.Cpu = [pscustomobject]@{ WindowSeconds = $window; IdlePct = Get-Median $idle; MemoryOpsPct = Get-Median $ours; CountersPct = Get-Median $theirs
            Raw = "idle $(($idle | ForEach-Object { '{0:N2}' -f $_ }) -join ', '); MemoryOps $(($ours | ForEach-Object { '{0:N2}' -f $_ }) -join ', '); dotnet-counters $(($theirs | ForEach-Object { '{0:N2}' -f $_ }) -join ', ')" }
    }
    if ('Synthetic' -in $Scenario) {
        Step "compare, export and import $SyntheticTypes-type snapshots"
        $ref = New-SyntheticSnapshot $SyntheticTypes
        $diff = New-SyntheticSnapshot $SyntheticTypes -Difference
        $reps = [Math]::Max($Runs, 5)
        Compare-HeapSnapshot -ReferenceSnapshot $ref -DifferenceSnapshot $diff | Out-Null   # warm-up (JIT)
        $syn = [ordered]@{}
        $syn['Compare-HeapSnapshot (every changed type, collected)'] = Get-RunSummary @(1..$reps | ForEach-Object { Measure-InSession { $d = Compare-HeapSnapshot -ReferenceSnapshot $ref -DifferenceSnapshot $diff; $d.Count } })
        $syn['Compare-HeapSnapshot -Top 20'] = Get-RunSummary @(1..$reps | ForEach-Object { Measure-InSession { Compare-HeapSnapshot -ReferenceSnapshot $ref -DifferenceSnapshot $diff -Top 20 | Out-Null } })
        $syn['Compare-HeapSnapshot -Summary'] = Get-RunSummary @(1..$reps | ForEach-Object { Measure-InSession { Compare-HeapSnapshot -ReferenceSnapshot $ref -DifferenceSnapshot $diff -Summary | Out-Null } })
        $sizes = [ordered]@{}
        foreach ($ext in 'json', 'json.gz') {
            $f = Join-Path $work "synthetic.$ext"
            Export-HeapSnapshot -InputObject $ref -Path $f -Force   # warm-up
            $syn["Export-HeapSnapshot .$ext"] = Get-RunSummary @(1..$reps | ForEach-Object { Measure-InSession { Export-HeapSnapshot -InputObject $ref -Path $f -Force } })
            Import-HeapSnapshot -Path $f | Out-Null
            $syn["Import-HeapSnapshot .$ext"] = Get-RunSummary @(1..$reps | ForEach-Object { Measure-InSession { Import-HeapSnapshot -Path $f | Out-Null } })
            $sizes[$ext] = (Get-Item $f).Length
        }
        $results.Synthetic = $syn
        $results.SyntheticSizes = $sizes
        $results.SyntheticDeltas = (Compare-HeapSnapshot -ReferenceSnapshot $ref -DifferenceSnapshot $diff).Count
    }
    Stop-TestTarget $mainTarget; $mainTarget = $null
    Remove-Item $mainDump -ErrorAction SilentlyContinue

    if ('Scaling' -in $Scenario) {
        $results.Scaling = [Collections.Generic.List[object]]::new()
        foreach ($n in $ScaleOrders) {
            if ($n -eq $Orders -and $results.Contains('Live') -and $results.Contains('DumpRead')) {
                $results.Scaling.Add([pscustomobject]@{ Orders = $n; Heap = $results.Heap; Live = $results.Live; DumpRead = $results.DumpRead; Runs = $Runs; Note = 'main table' })
                continue
            }
            $large = $n -gt 3000000
            $rc = if ($large) { $LargeRuns } else { $Runs }
            Step "scaling: $n orders ($rc runs each$(if ($large) { ', no warm-up' }))"
            $t = New-Target $n
            try {
                $live = Invoke-LiveSnapshotScenario -Target $t -RunCount $rc -NoWarmUp:$large
                $dump = Join-Path $work "scale-$n.dmp"
                New-MemoryDump -ProcessId $t.ProcessId -Type Heap -Path $dump | Out-Null
                Stop-TestTarget $t; $t = $null   # the dump read needs no target; free its memory
                $read = Invoke-DumpReadScenario -Dump $dump -RunCount $rc -NoWarmUp:$large
                Remove-Item $dump -ErrorAction SilentlyContinue
                $results.Scaling.Add([pscustomobject]@{ Orders = $n; Heap = $null; Live = $live; DumpRead = $read; Runs = $rc; Note = if ($large) { 'no warm-up' } else { '' } })
            } finally { if ($t) { Stop-TestTarget $t } }
        }
    }
} finally {
    if ($mainTarget) { Stop-TestTarget $mainTarget }
    Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
}
$loadEnd = (Get-Content /proc/loadavg) -split ' ' | Select-Object -First 3
$elapsed = $total.Elapsed
$results | ConvertTo-Json -Depth 6 | Set-Content (Join-Path $root 'out/benchmark-results.json')

# --- docs/performance.md ------------------------------------------------------------------------
function F2 { param($v) if ($null -eq $v -or ($v -is [double] -and [double]::IsNaN($v))) { '—' } else { '{0:N2}' -f $v } }
function F0 { param($v) if ($null -eq $v -or ($v -is [double] -and [double]::IsNaN($v))) { '—' } else { '{0:N0}' -f $v } }
function Ratio { param($a, $b) if ($null -eq $a -or $null -eq $b -or $b -eq 0 -or [double]::IsNaN($a) -or [double]::IsNaN($b)) { [double]::NaN } else { $a / $b } }
function Verdict { param([bool] $Met) if ($Met) { '**met**' } else { '**not met**' } }

$mem = [Math]::Round(((Get-Content /proc/meminfo | Where-Object { $_ -like 'MemTotal:*' }) -split '\s+')[1] / 1MB, 1)
$cpuModel = ((Get-Content /proc/cpuinfo | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -split ':\s*', 2)[1]
$runtime = (& dotnet --list-runtimes | Where-Object { $_ -like 'Microsoft.NETCore.App *' } | ForEach-Object { ($_ -split ' ')[1] }) -join ', '
$sdk = & dotnet --version
$commit = (& git -C $root rev-parse --short HEAD 2>$null)
$dirty = if (& git -C $root status --porcelain -- . ':!docs/performance.md' 2>$null) { ' (with uncommitted changes)' } else { '' }
$modVersion = (Import-PowerShellDataFile $ModulePath).ModuleVersion

$md = [Text.StringBuilder]::new()
function L { param([string] $s = '') [void]$md.AppendLine($s) }
L '# MemoryOps performance'
L
L "Measured by ``dotnet pwsh ./build.ps1 -Task Bench`` (tests/Benchmarks/Invoke-Benchmark.ps1) on $((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm')) UTC; the whole run took $('{0:N1}' -f $elapsed.TotalMinutes) min."
L
$quietBefore = if ($LoadBeforeBuild) { [double]$LoadBeforeBuild } else { [double]$loadStart[0] }
L "- Machine: $([Environment]::ProcessorCount) cores ($cpuModel), $mem GB memory, Linux $([Environment]::OSVersion.Version). Load average (1, 5, 15 min)$(if ($LoadBeforeBuild) { " before the build: $LoadBeforeBuild (1 min);" }) at the start of the measurements $($loadStart -join ' '), at the end $($loadEnd -join ' '). The benchmark itself keeps one or two processes busy (target and collector), so the load during the run is partly its own$(if ($quietBefore -ge 0.8) { '; **the machine was not quiet before the run** (it is shared with other builds and tests): absolute times are inflated and noisier than on an idle machine; A and B alternate, so the ratios suffer less' })."
L "- Versions: .NET SDK $sdk, runtime $runtime, PowerShell $($PSVersionTable.PSVersion), MemoryOps $modVersion (commit $commit$dirty), dotnet-gcdump $($gcdump.Version), dotnet-dump $($dumpTool.Version), dotnet-counters $($counters.Version)."
L "- Target: tests/TestTarget with $('{0:N0}' -f $Orders) leaked orders (an OrderStat and its key string each), managed heap $('{0:N0}' -f ($results.Heap / 1MB)) MB after a full GC$(if ($results.Contains('DumpSizeBytes')) { "; its Heap dump is $('{0:N0}' -f ($results.DumpSizeBytes / 1MB)) MB" })."
L "- Method: MemoryOps (A) and the anchor (B) alternate A B A B on the same target state, one warm-up each, then $Runs measured runs each; the table shows medians. **Fresh** = a new ``pwsh -NoProfile -NonInteractive -c 'Import-Module …; <cmdlet>'`` process, as a user meets it (bare pwsh start-up below is included in its time); **warm** = the cmdlet in an already loaded session. Peak memory is the collecting process's maximum resident set size (/usr/bin/time); for warm runs it is what the cmdlet added to the session's peak (VmHWM reset through /proc/self/clear_refs; memory the session already held and its GC reuses does not show, so a warm figure can be near 0). The anchors run as ``dotnet <tool dll>`` from the pinned tool packages (one process each), as ``dotnet tool install`` gives them. pwsh runs as ``dotnet pwsh.dll`` from the pinned PowerShell $($PSVersionTable.PSVersion) assemblies compiled ReadyToRun, as Microsoft's Linux packages (.deb, .rpm, .tar.gz) ship them: the global-tool package of the same version is IL only and is measured beside it at import (out/bench/, built by Get-ReadyToRunPwsh in tests/Benchmarks/Benchmark.psm1 with the SDK's Crossgen2)."
L
if ($results.Contains('Import')) {
    $imp = $results.Import
    L "Bare pwsh start-up (``pwsh -NoProfile -NonInteractive -c exit``): $(F2 $imp.B.Wall) s, $(F0 $imp.B.PeakMB) MB (ReadyToRun, as the Linux packages ship it)$(if ($results.Contains('ImportTool')) { "; $(F2 $results.ImportTool.B.Wall) s, $(F0 $results.ImportTool.B.PeakMB) MB from the IL-only global-tool package" })."
    L
}
L '## Against the goals'
L
L '| scenario | anchor | MemoryOps fresh: wall / peak | MemoryOps warm: wall / added peak | anchor: wall / peak | ratio wall (fresh; warm) | ratio peak (fresh; warm) | goal | result |'
L '|---|---|---|---|---|---|---|---|---|'
$notes = [Collections.Generic.List[string]]::new()
if ($results.Contains('Live')) {
    $r = $results.Live
    $rw = Ratio $r.A.Wall $r.B.Wall; $rww = Ratio $r.Warm.Wall $r.B.Wall; $rp = Ratio $r.A.PeakMB $r.B.PeakMB; $rpw = Ratio $r.Warm.PeakMB $r.B.PeakMB
    $countsOk = -not ($r.Counts | Where-Object { $_.MemoryOps -ne $_.GcDump })
    L "| live heap snapshot → per-type stats | ``dotnet-gcdump collect`` + ``report`` | $(F2 $r.A.Wall) s / $(F0 $r.A.PeakMB) MB | $(F2 $r.Warm.Wall) s / $(F0 $r.Warm.PeakMB) MB | $(F2 $r.B.Wall) s ($(F2 $r.GcDumpCollect) + $(F2 $r.GcDumpReport)) / $(F0 $r.B.PeakMB) MB | $(F2 $rw); $(F2 $rww) | $(F2 $rp); $(F2 $rpw) | wall fresh ≤ 0.45×, warm ≤ 0.35×, peak ≤ 0.1×, same counts | wall fresh $(Verdict ($rw -le 0.45)), warm $(Verdict ($rww -le 0.35)); peak fresh $(Verdict ($rp -le 0.1)), warm $(Verdict ($rpw -le 0.1)); counts $(Verdict $countsOk) |"
    $notes.Add("Live snapshot counts (MemoryOps vs dotnet-gcdump report): " + (($r.Counts | ForEach-Object { "$($_.TypeName) $('{0:N0}' -f $_.MemoryOps) vs $('{0:N0}' -f $_.GcDump)" }) -join '; ') + ". Heap: $('{0:N0}' -f $r.Objects) objects, $($r.Types) types.")
    $notes.Add("Live snapshot, where the time goes (medians per run): the target spent $(F2 $r.TargetCpuA) s of CPU (its induced full GC and writing the heap's events) while MemoryOps ran, $(F2 $r.TargetCpuB) s while dotnet-gcdump did; the collecting process used $(F2 $r.CollectorCpuA) s of CPU (MemoryOps, fresh pwsh) vs $(F2 $r.CollectorCpuB) s (dotnet-gcdump collect + report).")
}
if ($results.Contains('DumpRead')) {
    $r = $results.DumpRead
    $rw = Ratio $r.A.Wall $r.B.Wall; $rww = Ratio $r.Warm.Wall $r.B.Wall; $rp = Ratio $r.A.PeakMB $r.B.PeakMB; $rpw = Ratio $r.Warm.PeakMB $r.B.PeakMB
    L "| per-type stats from a Heap dump | ``dotnet-dump analyze <dump> -c `"dumpheap -stat`" -c exit`` | $(F2 $r.A.Wall) s / $(F0 $r.A.PeakMB) MB | $(F2 $r.Warm.Wall) s / $(F0 $r.Warm.PeakMB) MB | $(F2 $r.B.Wall) s / $(F0 $r.B.PeakMB) MB | $(F2 $rw); $(F2 $rww) | $(F2 $rp); $(F2 $rpw) | wall ≤ 0.5×, identical numbers | wall fresh $(Verdict ($rw -le 0.5)), warm $(Verdict ($rww -le 0.5)); numbers $(Verdict ($r.Identity.Mismatches -eq 0 -and $r.Identity.SosTypes -eq $r.Identity.OurTypes)) |"
    $notes.Add("Dump read identity: $($r.Identity.SosTypes) SOS types, $($r.Identity.OurTypes) MemoryOps types, $($r.Identity.Mismatches) rows differing in count or bytes$(if ($r.Identity.Examples) { " (e.g. $($r.Identity.Examples))" }). Heap: $('{0:N0}' -f $r.Objects) objects.")
}
if ($results.Contains('DumpWrite')) {
    $r = $results.DumpWrite
    $rw = Ratio $r.A.Wall $r.B.Wall; $rww = Ratio $r.Warm.Wall $r.B.Wall
    L "| write a Heap dump | ``dotnet-dump collect --type Heap`` | $(F2 $r.A.Wall) s / $(F0 $r.A.PeakMB) MB | $(F2 $r.Warm.Wall) s / $(F0 $r.Warm.PeakMB) MB | $(F2 $r.B.Wall) s / $(F0 $r.B.PeakMB) MB | $(F2 $rw); $(F2 $rww) | $(F2 (Ratio $r.A.PeakMB $r.B.PeakMB)); — | wall ≤ 1.0× | fresh $(Verdict ($rw -le 1.0)), warm $(Verdict ($rww -le 1.0)) |"
}
if ($results.Contains('Counters')) {
    foreach ($kind in $results.Counters.Keys) {
        $r = $results.Counters[$kind]
        $rw = Ratio $r.A.FirstLine $r.B.FirstLine; $rww = Ratio $r.Warm.Wall $r.B.FirstLine
        $what = if ($kind -eq 'EventCounter') { 'gc-heap-size (EventCounters)' } else { 'dotnet.gc.last_collection.heap.size (Meter)' }
        L "| first counter sample at 1 s, $what | ``dotnet-counters monitor`` (first table) | $(F2 $r.A.FirstLine) s / $(F0 $r.A.PeakMB) MB | $(F2 $r.Warm.Wall) s / $(F0 $r.Warm.PeakMB) MB | $(F2 $r.B.FirstLine) s / $(F0 $r.B.PeakMB) MB | $(F2 $rw); $(F2 $rww) | $(F2 (Ratio $r.A.PeakMB $r.B.PeakMB)); — | time to first sample ≤ anchor's | fresh $(Verdict ($rw -le 1.0)), warm $(Verdict ($rww -le 1.0)) |"
    }
    $notes.Add('Time to first sample is measured from process start to the first line showing a value (fresh and anchor), and from the cmdlet call to its first output (warm). `dotnet-counters collect` buffers its file until it ends, so its first visible sample is `monitor`''s first table (same session code).')
}
if ($results.Contains('Cpu')) {
    $r = $results.Cpu
    $added = $r.MemoryOpsPct - $r.IdlePct
    L "| CPU added to the target by a 1 s counter session | ``dotnet-counters collect --refresh-interval 1`` | $(F2 $added) % of a core | — | $(F2 ($r.CountersPct - $r.IdlePct)) % | — | — | < 1 % | $(Verdict ($added -lt 1.0)) |"
    $notes.Add("CPU: the target's utime+stime over $($r.WindowSeconds) s windows (after a 4 s start), with no session, with ``Get-GcCounter -Interval 1`` (every System.Runtime counter, EventCounters and Meter) and with ``dotnet-counters collect`` (System.Runtime); medians of 2 windows each: idle $(F2 $r.IdlePct) %, MemoryOps $(F2 $r.MemoryOpsPct) %, dotnet-counters $(F2 $r.CountersPct) % ($($r.Raw)).")
}
if ($results.Contains('Synthetic')) {
    $c = $results.Synthetic['Compare-HeapSnapshot (every changed type, collected)']
    L "| compare two $('{0:N0}' -f $SyntheticTypes)-type snapshots (warm) | — | — | $(F0 ($c.Wall * 1000)) ms / $(F0 $c.PeakMB) MB | — | — | — | < 200 ms | $(Verdict ($c.Wall -lt 0.2)) |"
    $e = $results.Synthetic['Export-HeapSnapshot .json.gz']; $i = $results.Synthetic['Import-HeapSnapshot .json.gz']
    L "| export / import a $('{0:N0}' -f $SyntheticTypes)-type snapshot (.json.gz, warm) | — | — | $(F0 ($e.Wall * 1000)) / $(F0 ($i.Wall * 1000)) ms, $(F0 ($results.SyntheticSizes['json.gz'] / 1KB)) KB | — | — | — | report | reported below |"
}
if ($results.Contains('Import')) {
    $imp = $results.Import
    $net = ($imp.A.Wall - $imp.B.Wall) * 1000
    L "| module import in a fresh pwsh (ReadyToRun), minus bare start-up | — | $(F0 $net) ms (import $(F2 $imp.A.Wall) s − bare $(F2 $imp.B.Wall) s) / $(F0 $imp.A.PeakMB) MB | — | — | — | — | ≤ 150 ms | $(Verdict ($net -le 150)) |"
    $notes.Add("Module import: importing an empty script module in a fresh pwsh costs $(F0 (($imp.Empty.Wall - $imp.B.Wall) * 1000)) ms over bare start-up (the first Import-Module's own cost, whatever the module); MemoryOps adds $(F0 (($imp.A.Wall - $imp.Empty.Wall) * 1000)) ms to that.")
    if ($results.Contains('ImportTool')) {
        $t = $results.ImportTool
        $tnet = ($t.A.Wall - $t.B.Wall) * 1000
        L "| module import in a fresh pwsh of the IL-only global-tool package, minus bare start-up | — | $(F0 $tnet) ms (import $(F2 $t.A.Wall) s − bare $(F2 $t.B.Wall) s) / $(F0 $t.A.PeakMB) MB | — | — | — | — | report | reported |"
        $notes.Add("Module import with the IL-only pwsh of the global-tool package: an empty script module costs $(F0 (($t.Empty.Wall - $t.B.Wall) * 1000)) ms over its bare start-up, MemoryOps $(F0 $tnet) ms: PowerShell's own module loading, type and format processing are JIT-compiled there on every start (MemoryOps's own assemblies are ReadyToRun in both). A runbook host that installed pwsh with ``dotnet tool install`` pays this, and $(F2 ($t.B.Wall - $imp.B.Wall)) s more bare start-up.")
    }
}
L
foreach ($n in $notes) { L "- $n" }
L
L '## Where the time and memory go (what limits the unmet goals)'
L
$bareS = if ($results.Contains('Import')) { $results.Import.B.Wall } else { [double]::NaN }
$importS = if ($results.Contains('Import')) { $results.Import.A.Wall - $results.Import.B.Wall } else { [double]::NaN }
$bareMB = if ($results.Contains('Import')) { $results.Import.A.PeakMB } else { [double]::NaN }
L "- **A fresh pwsh pays $(F2 ($bareS + $importS)) s before the first cmdlet runs** (bare start-up $(F2 $bareS) s + module import $(F2 $importS) s) and holds $(F0 $bareMB) MB with the module imported and nothing collected. Every fresh ratio carries that: it is the floor of the fresh wall ratios below and of the fresh memory ratios (against the anchor's whole peak)."
if ($results.Contains('Live')) {
    $r = $results.Live
    L "- **Live snapshot**: warm, the cmdlet takes $(F2 $r.Warm.Wall) s and adds $(F0 $r.Warm.PeakMB) MB; dotnet-gcdump takes $(F2 $r.B.Wall) s and peaks at $(F0 $r.B.PeakMB) MB. The target itself spends $(F2 $r.TargetCpuA) s of CPU per snapshot (the induced blocking gen-2 GC and writing every node and edge into EventPipe; dotnet-gcdump's sessions cost it $(F2 $r.TargetCpuB) s): that part is the runtime's and the same whoever collects, so even a collector costing nothing would stay at ≥ $(F2 (Ratio $r.TargetCpuA $r.B.Wall)) of the anchor's wall. Fresh memory is pwsh's own $(F0 $bareMB) MB plus the walk's; the walk's part (warm) is $(F2 (Ratio $r.Warm.PeakMB $r.B.PeakMB))× the anchor's peak. A fresh pwsh walks the heap slower than a warm one (fresh minus pwsh start-up and import is about 0.7 s more than warm): TraceEvent's parsing code that runs once per object goes through tiered compilation's instrumented stage first in a new process. Measured by hand (2 M orders, fresh ReadyToRun pwsh, medians): 3.54 s as is, 2.68 s with DOTNET_TieredPGO=0 set for pwsh. That setting is the host's, not a module's, so MemoryOps does not set it; marking MemoryOps's own per-object handlers AggressiveOptimization changed nothing measurable (2.75 vs 2.61 s wall, 2.05 vs 2.15 s CPU, medians of 8), so they were left as they are."
}
if ($results.Contains('DumpRead')) {
    $r = $results.DumpRead
    L "- **Dump read**: warm $(F2 $r.Warm.Wall) s against SOS's $(F2 $r.B.Wall) s. Fresh = $(F2 ($bareS + $importS)) s of pwsh and import + the read; the read itself runs in a child process (the dump reader, so that a dump that crashes the runtime's DAC cannot end pwsh), which starts a runtime for every dump, opens the dump, creates the DAC runtime (~0.2 s) and walks every object from 1 MB block reads; it runs without tiered compilation's profiling (DOTNET_TieredPGO=0: measured on this 466 MB dump, the reader alone took 0.66 s with it and 0.44 s without). The rest of the fresh figure is pwsh's own start-up and import. MemoryOps's cmdlet assembly is compiled against PowerShellStandard.Library, so most of its ReadyToRun code is left out and its methods are JIT-compiled in a fresh pwsh; compiled against PowerShell 7.6.9's own System.Management.Automation (tried by hand) the fresh read took the same 1.19 s (medians of 8), so that was left as it is. Peak memory here is pwsh's: the reader's own (57 MB on this dump, measured apart) is not in it."
}
if ($results.Contains('DumpWrite')) {
    $r = $results.DumpWrite
    L "- **Dump write**: both sides ask the runtime to run createdump, which writes the file; the work is the same, so fresh MemoryOps differs from the anchor by about pwsh's start-up and import, and warm by $(F2 ($r.Warm.Wall - $r.B.Wall)) s (the anchor, process start included, takes $(F2 $r.B.Wall) s)."
}
if ($results.Contains('Counters')) {
    L "- **First counter sample**: the runtime stamps the first value about 1.0 s after the session starts, but EventPipe writes the tail of that first burst without a following sequence point, and TraceEvent holds events after the last sequence point until more data arrives (dotnet/runtime#76704) — in most runs one more interval. Measured once while preparing this benchmark (not by this script), with a bare TraceEvent reader on the same providers outside MemoryOps (TraceEvent 4.0.0, which MemoryOps uses, and 3.1.21) and with the engine's CounterSession alone: values stamped 1.00 s were delivered at 1.1 s in some runs and at 2.1 s in others. dotnet-counters monitor draws its first table as soon as any value of the requested counters arrives; fresh MemoryOps also pays pwsh start-up and import first."
}
L
if ($results.Contains('Synthetic')) {
    L "## Synthetic $('{0:N0}' -f $SyntheticTypes)-type snapshots (warm session, medians of $([Math]::Max($Runs, 5)) runs)"
    L
    L "The difference snapshot drops 1 % of the types, adds 1 % and grows every tenth: $('{0:N0}' -f $results.SyntheticDeltas) changed types."
    L
    L '| operation | wall | added peak memory | file size |'
    L '|---|---|---|---|'
    foreach ($k in $results.Synthetic.Keys) {
        $v = $results.Synthetic[$k]
        $size = if ($k -match '\.(json(\.gz)?)$') { '{0:N0} KB' -f ($results.SyntheticSizes[$Matches[1]] / 1KB) } else { '' }
        L "| $k | $(F0 ($v.Wall * 1000)) ms | $(F0 $v.PeakMB) MB | $size |"
    }
    L
}
if ($results.Contains('Scaling')) {
    L '## Scaling of the two snapshot scenarios'
    L
    L 'Collector memory should follow the number of types, not the number of objects. Fresh-pwsh MemoryOps (A) against the anchor (B), medians.'
    L
    L '| orders | objects | types | live: MemoryOps wall / peak | live: dotnet-gcdump wall / peak (collect) | live ratio wall / peak | dump: MemoryOps wall / peak | dump: dotnet-dump wall / peak | dump ratio wall / peak | runs |'
    L '|---|---|---|---|---|---|---|---|---|---|'
    foreach ($s in $results.Scaling) {
        $l = $s.Live; $d = $s.DumpRead
        L "| $('{0:N0}' -f $s.Orders) | $('{0:N0}' -f $d.Objects) | $($d.Types) | $(F2 $l.A.Wall) s / $(F0 $l.A.PeakMB) MB | $(F2 $l.B.Wall) s / $(F0 $l.B.PeakMB) MB ($(F0 $l.GcDumpCollectPeakMB) MB) | $(F2 (Ratio $l.A.Wall $l.B.Wall)) / $(F2 (Ratio $l.A.PeakMB $l.B.PeakMB)) | $(F2 $d.A.Wall) s / $(F0 $d.A.PeakMB) MB | $(F2 $d.B.Wall) s / $(F0 $d.B.PeakMB) MB | $(F2 (Ratio $d.A.Wall $d.B.Wall)) / $(F2 (Ratio $d.A.PeakMB $d.B.PeakMB)) | $($s.Runs)$(if ($s.Note) { " ($($s.Note))" }) |"
    }
    L
}
# Sections other scripts measure (tests/Benchmarks/Measure-Fleet.ps1) sit between markers and are kept as they are.
if (Test-Path $OutputPath) {
    $kept = [regex]::Matches((Get-Content $OutputPath -Raw), '(?s)<!-- (\w+):begin -->.*?<!-- \1:end -->')
    foreach ($section in $kept) { L $section.Value; L }
}
L '## Reproduce'
L
L '```sh'
L 'dotnet tool restore && dotnet pwsh ./build.ps1 -Task Bench'
L '```'
L
L 'Raw per-run numbers of the last run are in `out/benchmark-results.json`.'
Set-Content -Path $OutputPath -Value $md.ToString().TrimEnd() -NoNewline
Step "wrote $OutputPath"

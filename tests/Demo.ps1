<#
    The MemoryOps story on the bundled TestTarget, end to end, with readable output.
    Run it with: dotnet tool restore && dotnet pwsh ./build.ps1 -Task Demo
    Exits 0 only when every step showed what it claims; cleans up every process it started.
#>
param([Parameter(Mandatory)] [string] $ModulePath)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force
Import-Module (Join-Path $PSScriptRoot 'MemoryOps.Tests/TestTarget.psm1') -Force

$failures = [System.Collections.Generic.List[string]]::new()
# Tables as wide as their content, whatever the terminal (or a CI log) says its width is.
function Show { $input | Format-Table | Out-String -Width 200 | Out-Host }
function Step([string] $Title) { Write-Host "`n=== $Title ===" -ForegroundColor Cyan }
function Check([bool] $Condition, [string] $Claim) {
    if ($Condition) { Write-Host "  ok: $Claim" -ForegroundColor Green }
    else { Write-Host "  FAILED: $Claim" -ForegroundColor Red; $failures.Add($Claim) }
}

$target = Start-TestTarget
$dumpDir = $null
$store = $null
try {
    Step "1. The .NET processes on this machine (Get-DotNetProcess)"
    $procs = Get-DotNetProcess
    $procs | Show
    Check ($procs.ProcessId -contains $target.ProcessId) "TestTarget ($($target.ProcessId)) is listed"

    Step "2. The service's GC counters before the leak (Get-GcCounter)"
    Send-TestTarget $target 'churn on' | Out-Null
    $counters = 'gc-heap-size', 'gen-2-size', 'alloc-rate', 'time-in-gc', 'dotnet.gc.last_collection.heap.size'
    $before = Get-GcCounter -ProcessId $target.ProcessId -Counter $counters
    $before | Show
    $heapBefore = ($before | Where-Object Name -eq 'gc-heap-size').Value

    Step "2b. A baseline of the healthy service (New-HeapSnapshot | Save-MemoryBaseline)"
    $store = Join-Path ([IO.Path]::GetTempPath()) "memoryops-demo-store-$PID"
    Send-TestTarget $target 'churn off' | Out-Null   # the churn's own buffers would blur the baseline
    # A service has state before it leaks: 100,000 orders it really needs, about 16 MB.
    Send-TestTarget $target 'leak 100000' | Out-Host
    $snapshotBefore = New-HeapSnapshot -ProcessId $target.ProcessId
    $snapshotBefore | Save-MemoryBaseline -Name orders -Store $store -PassThru | Show
    $policy = @(
        New-MemoryRule -TypeName 'OrderService.*' -MaxBytesGrowth 10MB -Name orders-growth
        New-MemoryRule -Baseline orders -Store $store -Counter TotalBytes -MaxDeviationPercent 25 -Name heap-drift
    )
    $policy | Show
    $healthy = New-HeapSnapshot -ProcessId $target.ProcessId
    $verdict = @($healthy; Compare-HeapSnapshot -ReferenceSnapshot $snapshotBefore -DifferenceSnapshot $healthy -IncludeUnchanged) | Test-MemoryThreshold -Rule $policy
    $verdict | Show
    $verdict | Where-Object { -not $_.Passed } | ForEach-Object { Write-Host "  $($_.Message)" }
    Check (@($verdict | Where-Object { -not $_.Passed }).Count -eq 0) "the healthy service passes every rule ($(@($verdict).Count) results)"
    Send-TestTarget $target 'churn on' | Out-Null

    Step "3. The leak: 3 x 300,000 orders into a static dictionary, with the heap watched live"
    $leakSamples = [System.Collections.Generic.List[object]]::new()
    foreach ($round in 1..3) {
        Send-TestTarget $target 'leak 300000' | Out-Host
        # A few seconds of counters per round: the report (step 8) draws them.
        $roundSamples = Get-GcCounter -ProcessId $target.ProcessId -Counter gc-heap-size, gen-2-size, alloc-rate -MaxSamples 3
        $leakSamples.AddRange(@($roundSamples))
        $roundSamples | Where-Object Name -in 'gc-heap-size', 'gen-2-size' | Select-Object -Last 2 | Format-Table -HideTableHeaders | Out-Host
    }
    Send-TestTarget $target 'gc' | Out-Null
    $heapAfter = (Get-GcCounter -ProcessId $target.ProcessId -Counter gc-heap-size).Value
    $grown = $heapAfter - $heapBefore
    Write-Host ("  gc-heap-size grew from {0:N1} MB to {1:N1} MB" -f ($heapBefore / 1MB), ($heapAfter / 1MB))
    # 900,000 orders x (80-byte OrderStat + 56-byte key + 28 bytes of dictionary entry and bucket).
    Check ($grown -ge 900000 * 132) "the heap grew by at least the 113 MB the leak allocates"

    Step "3b. What the kernel counts for it, and whether it is the GC heap (Get-ProcessMemory -IncludeGc)"
    $memory = Get-ProcessMemory -ProcessId $target.ProcessId -IncludeGc
    $memory | Format-List | Out-String -Width 200 | Out-Host
    Check ($memory.GcHeapBytes -ge $heapAfter * 0.9 -and $memory.GcCommittedBytes -le $memory.ResidentBytes * 1.5) "the GC heap is the bulk of what the kernel counts (GC committed $([MemoryOps.Display]::Bytes($memory.GcCommittedBytes)) of $([MemoryOps.Display]::Bytes($memory.ResidentBytes)) resident)"

    Step "4. Garbage collections while the service churns (Get-GcEvent)"
    $gcs = Get-GcEvent -ProcessId $target.ProcessId -Duration 3
    $gcs | Select-Object -Last 8 | Show
    Check ($gcs.Count -gt 0) "$($gcs.Count) collections recorded in 3 s"
    $summary = Get-GcEvent -ProcessId $target.ProcessId -Duration 3 -Summary
    $summary | Format-List | Out-Host
    Check ($summary.PauseFraction -gt 0 -and $summary.PauseFraction -lt 1) ("the service spent {0:P2} of its time paused by the GC" -f $summary.PauseFraction)
    Send-TestTarget $target 'churn off' | Out-Null

    Step "5. What is on the heap? A live snapshot (New-HeapSnapshot -ProcessId; it runs a full GC in the target)"
    $live = New-HeapSnapshot -ProcessId $target.ProcessId
    $live.Types | Select-Object -First 5 | Show
    $orderStat = $live.Types | Where-Object TypeName -eq 'OrderService.OrderStat'
    Check ($orderStat.Count -eq 1000000) "the live heap holds exactly the 1,000,000 OrderStat objects: 100,000 needed + 900,000 leaked ($($orderStat.Count))"

    Step "6. What grew? (Compare-HeapSnapshot against the snapshot taken before the leak)"
    $deltas = $live | Compare-HeapSnapshot -ReferenceSnapshot (Get-MemoryBaseline -Name orders -Store $store).Snapshot -Top 5
    $deltas | Show
    Check ($deltas[0].TypeName -eq 'OrderService.OrderStat' -and $deltas[0].CountDelta -eq 900000) "OrderService.OrderStat grew most: +900,000 objects, $('{0:N1}' -f ($deltas[0].BytesDelta / 1MB)) MB"

    Step "6b. The verdict (Test-MemoryThreshold against the rules and the baseline)"
    $verdict = @($live; $deltas) | Test-MemoryThreshold -Rule $policy
    $verdict | Show
    $failed = @($verdict | Where-Object { -not $_.Passed })
    Check ($failed.Rule -contains 'orders-growth' -and $failed.Rule -contains 'heap-drift') "both rules fail on the leak: $($failed.Rule -join ', ')"
    $assertError = $null
    try { @($live; $deltas) | Test-MemoryThreshold -Rule $policy -Assert | Out-Null } catch { $assertError = $_ }
    Check ($null -ne $assertError -and $assertError.FullyQualifiedErrorId -like 'ThresholdViolated*') "-Assert ends with a ThresholdViolated error, as a scheduled check needs"

    Step "7. A Heap dump, and the same question asked of it (New-MemoryDump | New-HeapSnapshot)"
    $dumpDir = Join-Path ([IO.Path]::GetTempPath()) "memoryops-demo-$PID"
    New-Item -ItemType Directory $dumpDir -Force | Out-Null
    $dump = New-MemoryDump -ProcessId $target.ProcessId -Path $dumpDir
    $dump | Format-List Path, Type, SizeBytes, Duration | Out-Host
    $fromDump = $dump | New-HeapSnapshot
    $dumpOrders = ($fromDump.Types | Where-Object TypeName -eq 'OrderService.OrderStat').Count
    Check ($dumpOrders -eq 1000000) "the dump holds the same 1,000,000 OrderStat objects ($dumpOrders)"
    $snapFile = Join-Path $dumpDir 'after-leak.json.gz'
    $fromDump | Export-HeapSnapshot -Path $snapFile
    $back = Import-HeapSnapshot $snapFile
    Check ($back.ObjectCount -eq $fromDump.ObjectCount) "the snapshot saved to $snapFile reads back the same ($($back.Types.Count) types)"

    Step "8. The story in one page (Export-MemoryReport)"
    $paths = Get-HeapRetention -DumpPath $dump.Path -TypeName OrderService.OrderStat
    $paths | Select-Object Count, TotalBytes, Path | Show
    $heapRule = New-MemoryRule -Name heap-limit -Counter gc-heap-size -Maximum 100MB
    $counterVerdict = @($before) + @($leakSamples) | Test-MemoryThreshold -Rule $heapRule
    $reportPath = Join-Path $PSScriptRoot '../out/MemoryOps-demo-report.html'
    # The counters read over the leak, from before it (the others were read once: a single point says nothing in a chart).
    $beforeCounters = $before | Where-Object Name -in 'gc-heap-size', 'gen-2-size', 'alloc-rate'
    $report = @($beforeCounters; $leakSamples; $gcs; $summary; $snapshotBefore; $live; $deltas; $verdict; $counterVerdict; $paths) |
        Export-MemoryReport -Path $reportPath -Title 'The leak: orders held by a static dictionary' -PassThru
    Check ($null -ne $report -and $report.Length -gt 0) "the report is written: $($report.FullName) ($('{0:N0}' -f ($report.Length / 1KB)) KB); open it in a browser"
}
finally {
    Step "Cleanup"
    $target | Stop-TestTarget
    Write-Host "  TestTarget stopped."
    if ($dumpDir -and (Test-Path $dumpDir)) { Remove-Item $dumpDir -Recurse -Force; Write-Host "  $dumpDir removed." }
    if ($store -and (Test-Path $store)) { Remove-Item $store -Recurse -Force; Write-Host "  $store removed." }
}

if ($failures.Count -gt 0) {
    Write-Host "`nThe demo FAILED: $($failures -join '; ')" -ForegroundColor Red
    exit 1
}
Write-Host "`nThe demo completed: every step showed what it claims." -ForegroundColor Green
exit 0

BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force
    $script:target = Start-TestTarget
}

AfterAll {
    $script:target | Stop-TestTarget
}

Describe 'Get-GcEvent' {
    It 'records collections with plausible pauses under churn' {
        # How many GCs the churn causes per second depends on the machine and on DATAS's gen-0 budget (3 in 3 s
        # were seen): watch until the target has done the collections the test needs, 60 s at most.
        Send-TestTarget $target 'churn on' | Out-Null
        try {
            $records = Get-GcEvent -ProcessId $target.ProcessId -MaxEvents 6 -Duration 60
        } finally { Send-TestTarget $target 'churn off' | Out-Null }
        $records | Should -HaveCount 6
        $records[0] | Should -BeOfType ([MemoryOps.GcEventRecord])
        $records.Generation | Should -Contain 0
        foreach ($r in $records) {
            $r.PauseDuration | Should -BeGreaterThan 0
            $r.PauseDuration | Should -BeLessThan 1
            $r.HeapSizeAfter | Should -BeGreaterThan 0
            $r.Reason | Should -Not -BeNullOrEmpty
        }
        # GC numbers are the runtime's own sequence: strictly increasing.
        for ($i = 1; $i -lt $records.Count; $i++) { $records[$i].Number | Should -BeGreaterThan $records[$i - 1].Number }
        Wait-TestTargetSessionsClosed $target | Should -Be 'OK sessions enabled='
    }

    It 'sees an induced full blocking GC the target runs, with sizes matching the target''s own count' {
        $job = Start-DelayedCommand -Seconds 1.5 -Command 'true'   # a clock, so the gc command lands mid-collection
        $collector = [PowerShell]::Create()
        try {
            $null = $collector.AddCommand('Import-Module').AddArgument($env:MEMORYOPS_MODULE_PATH).AddStatement().
                AddCommand('Get-GcEvent').AddParameter('ProcessId', $target.ProcessId).AddParameter('Duration', 4)
            $async = $collector.BeginInvoke()
            $job.WaitForExit()
            $answer = Send-TestTarget $target 'gc'
            $records = $collector.EndInvoke($async)
        } finally { $collector.Dispose() }
        $induced = $records | Where-Object Reason -like 'Induced*'
        $induced | Should -Not -BeNullOrEmpty
        $induced[-1].Generation | Should -Be 2
        $induced[-1].Type | Should -Be 'Blocking'
        # The target reported GC.GetTotalMemory right after that GC; our after-size is the same heap.
        $truth = [long]($answer -replace '^OK gc heap=', '')
        $induced[-1].HeapSizeAfter | Should -BeGreaterOrEqual ($truth * 0.8)
        $induced[-1].HeapSizeAfter | Should -BeLessOrEqual ($truth * 1.25 + 1MB)
    }

    It 'stops after -MaxEvents' {
        Send-TestTarget $target 'churn on' | Out-Null
        try {
            $records = Get-GcEvent -ProcessId $target.ProcessId -MaxEvents 3
        } finally { Send-TestTarget $target 'churn off' | Out-Null }
        $records | Should -HaveCount 3
    }

    It 'summarises a window with -Summary' {
        Send-TestTarget $target 'churn on' | Out-Null
        try {
            # The window ends at the sixth collection (60 s at most), however fast the machine makes them.
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $summary = Get-GcEvent -ProcessId $target.ProcessId -MaxEvents 6 -Duration 60 -Summary
            $clock.Stop()
        } finally { Send-TestTarget $target 'churn off' | Out-Null }
        $summary | Should -BeOfType ([MemoryOps.GcSummary])
        $summary.Count | Should -Be 6
        $summary.Count | Should -Be ($summary.Gen0Count + $summary.Gen1Count + $summary.Gen2Count)
        $summary.WindowDuration | Should -BeGreaterThan 0
        $summary.WindowDuration | Should -BeLessOrEqual $clock.Elapsed.TotalSeconds
        $summary.TotalPause | Should -BeGreaterThan 0
        $summary.MaxPause | Should -BeLessOrEqual $summary.TotalPause
        $summary.PauseFraction | Should -BeGreaterThan 0
        $summary.PauseFraction | Should -BeLessThan 0.5
        [math]::Abs($summary.PauseFraction - $summary.TotalPause / $summary.WindowDuration) | Should -BeLessThan 1e-9
    }

    It 'ends with TargetExited when the target exits mid-collection' {
        $victim = Start-TestTarget
        Send-TestTarget $victim 'churn on' | Out-Null
        # Killed at its first collection, not after a fixed delay: mid-collection for certain on any machine.
        $killed = $false
        $records = Get-GcEvent -ProcessId $victim.ProcessId -Continuous -Duration 30 -ErrorVariable err -ErrorAction SilentlyContinue |
            ForEach-Object { if (-not $killed) { $victim.Process.Kill(); $killed = $true }; $_ }
        $killed | Should -BeTrue -Because 'the churning target made a collection within 30 s'
        $records.Count | Should -BeGreaterThan 0
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TargetExited,*'
        $victim | Stop-TestTarget
    }
}

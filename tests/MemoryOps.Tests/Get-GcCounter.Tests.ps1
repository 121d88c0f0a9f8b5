BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force
    $script:target = Start-TestTarget
}

AfterAll {
    $script:target | Stop-TestTarget
}

Describe 'Get-GcCounter' {
    It 'takes one sample of each System.Runtime counter by default, from both sources, in base units' {
        $samples = Get-GcCounter -ProcessId $target.ProcessId
        $samples | Should -Not -BeNullOrEmpty
        $samples[0] | Should -BeOfType ([MemoryOps.CounterSample])
        ($samples | Group-Object Name | Where-Object Count -gt 1 | Where-Object { $_.Group.Tags.Count -eq 0 }) | Should -BeNullOrEmpty -Because 'one sample per counter'
        $heap = $samples | Where-Object Name -eq 'gc-heap-size'
        $heap.Source | Should -Be 'EventCounters'
        $heap.Unit | Should -Be 'bytes'
        $heap.Kind | Should -Be 'Gauge'
        $heap.Value | Should -BeGreaterThan 100KB -Because 'the runtime reports MB; we report bytes'
        $gen = $samples | Where-Object Name -eq 'dotnet.gc.last_collection.heap.size'
        $gen.Source | Select-Object -Unique | Should -Be 'Meter'
        $gen.Tags.'gc.heap.generation' | Sort-Object | Should -Be @('gen0', 'gen1', 'gen2', 'loh', 'poh')
        ($samples | Where-Object Name -eq 'alloc-rate').Unit | Should -Be 'bytes/s'
        ($samples | Where-Object Name -eq 'alloc-rate').Kind | Should -Be 'Rate'
    }

    It 'reports gc-heap-size in bytes that agree with the target''s own GC.GetTotalMemory' {
        $answer = Send-TestTarget $target 'gc'
        $truth = [long]($answer -replace '^OK gc heap=', '')
        $sample = Get-GcCounter -ProcessId $target.ProcessId -Counter gc-heap-size -Source EventCounters
        # The counter is GC.GetTotalMemory(false)/1e6 at a later moment; allow for the bytes allocated meanwhile.
        $sample.Value | Should -BeGreaterOrEqual ($truth * 0.95)
        $sample.Value | Should -BeLessOrEqual ($truth * 1.05 + 2MB)
    }

    It 'sees gc-heap-size rise by at least the known size of the leak after leak 500000' {
        Send-TestTarget $target 'gc' | Out-Null
        $before = (Get-GcCounter -ProcessId $target.ProcessId -Counter gc-heap-size).Value
        Send-TestTarget $target 'leak 500000' | Should -Be 'OK leak orders=500000'
        Send-TestTarget $target 'gc' | Out-Null
        $after = (Get-GcCounter -ProcessId $target.ProcessId -Counter gc-heap-size).Value
        # Each order is one OrderStat (80 bytes: header + 7 fields) and one 15-char key string (56 bytes),
        # plus at least a 24-byte dictionary entry and a 4-byte bucket.
        $expected = 500000 * (80 + 56 + 24 + 4)
        ($after - $before) | Should -BeGreaterOrEqual $expected
        ($after - $before) | Should -BeLessThan ($expected * 2) -Because 'nothing else in the target grows'
    }

    It 'filters counters with wildcards' {
        $ec = Get-GcCounter -ProcessId $target.ProcessId -Counter 'gc-*', 'gen-?-size'
        $ec.Name | Sort-Object -Unique | Should -Be @('gc-committed', 'gc-fragmentation', 'gc-heap-size', 'gen-0-size', 'gen-1-size', 'gen-2-size')
        $meter = Get-GcCounter -ProcessId $target.ProcessId -Counter 'dotnet.gc.*'
        $meter.Name | ForEach-Object { $_ | Should -BeLike 'dotnet.gc.*' }
        $meter.Source | Select-Object -Unique | Should -Be 'Meter'
    }

    It 'reads another provider''s EventCounter and Meter instrument with -Provider' {
        $answer = Send-TestTarget $target 'count'
        $orders = [int]($answer -replace '^OK count orders=(\d+).*$', '$1')
        $samples = Get-GcCounter -ProcessId $target.ProcessId -Provider OrderService
        ($samples | Where-Object Name -eq 'orders-count').Value | Should -Be $orders
        $gauge = $samples | Where-Object Name -eq 'orders.count'
        $gauge.Value | Should -Be $orders
        $gauge.Unit | Should -Be 'count'
        $gauge.Source | Should -Be 'Meter'
    }

    It 'lists what a process publishes with -ListAvailable' {
        $list = Get-GcCounter -ProcessId $target.ProcessId -ListAvailable
        $list[0] | Should -BeOfType ([MemoryOps.CounterDescriptor])
        $list.Name | Should -Contain 'gc-heap-size'
        $list.Name | Should -Contain 'dotnet.gc.last_collection.heap.size'
        ($list | Where-Object Name -eq 'dotnet.gc.collections').TagKeys | Should -Be 'gc.heap.generation'
        ($list | Group-Object Source, Name | Where-Object Count -gt 1) | Should -BeNullOrEmpty
    }

    It 'streams: -Continuous | Select-Object -First 5 returns after about one interval and ends the session' {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $first = Get-GcCounter -ProcessId $target.ProcessId -Continuous | Select-Object -First 5
        $watch.Stop()
        $first | Should -HaveCount 5
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 8
        Wait-TestTargetSessionsClosed $target | Should -Be 'OK sessions enabled='
    }

    It 'stops after -Duration and ends the session' {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $samples = Get-GcCounter -ProcessId $target.ProcessId -Counter gc-heap-size -Duration 3
        $watch.Stop()
        $watch.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 3
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 9
        $samples.Count | Should -BeGreaterOrEqual 1
        Wait-TestTargetSessionsClosed $target | Should -Be 'OK sessions enabled='
    }

    It 'takes -MaxSamples of each counter' {
        $samples = Get-GcCounter -ProcessId $target.ProcessId -Counter gc-heap-size, working-set -MaxSamples 3
        ($samples | Where-Object Name -eq 'gc-heap-size') | Should -HaveCount 3
        ($samples | Where-Object Name -eq 'working-set') | Should -HaveCount 3
        ($samples.Timestamp | Sort-Object -Unique).Count | Should -BeGreaterOrEqual 3
    }

    It 'samples many processes in one call, from the pipeline' {
        $second = Start-TestTarget
        try {
            $samples = Get-DotNetProcess -Name TestTarget | Get-GcCounter -Counter gc-heap-size
            $samples.ProcessId | Should -Contain $target.ProcessId
            $samples.ProcessId | Should -Contain $second.ProcessId
            ($samples | Group-Object ProcessId | Where-Object Count -ne 1) | Should -BeNullOrEmpty
        } finally { $second | Stop-TestTarget }
    }

    It 'gives a specific error for an unknown PID and for a non-.NET process, and goes on with the good target' {
        $sleep = Start-NonDotNetProcess
        try {
            $samples = Get-GcCounter -ProcessId 999999, $sleep.Id, $target.ProcessId -Counter gc-heap-size -ErrorVariable err -ErrorAction SilentlyContinue
            $samples.ProcessId | Should -Be $target.ProcessId
            $err | Should -HaveCount 2
            ($err | Where-Object TargetObject -eq 999999).FullyQualifiedErrorId | Should -BeLike 'ProcessNotFound,*'
            ($err | Where-Object TargetObject -eq $sleep.Id).FullyQualifiedErrorId | Should -BeLike 'NotDotNetProcess,*'
        } finally { $sleep.Kill(); $sleep.Dispose() }
    }

    It 'ends with TargetExited when the target exits mid-collection, keeping what was already emitted' {
        $victim = Start-TestTarget
        $killer = Start-DelayedCommand -Seconds 3.5 -Command "kill -9 $($victim.ProcessId)"
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $samples = Get-GcCounter -ProcessId $victim.ProcessId -Counter gc-heap-size -Continuous -Duration 30 -ErrorVariable err -ErrorAction SilentlyContinue
        $watch.Stop()
        $killer.WaitForExit()
        $samples.Count | Should -BeGreaterOrEqual 1
        $samples | ForEach-Object { $_.Value | Should -BeGreaterThan 0 }
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TargetExited,*'
        $err[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $err[0].TargetObject | Should -Be $victim.ProcessId
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 15
        $victim | Stop-TestTarget
    }

    It 'refuses a misspelt System.Runtime counter at once, naming the one it probably meant' {
        { Get-GcCounter -ProcessId $target.ProcessId -Counter gc-heap-sizee -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidInput,*' -ExpectedMessage "*Did you mean 'gc-heap-size'*"
        # A counter far from every known name may be a newer runtime's: it is waited for, not refused.
        { Get-GcCounter -ProcessId $target.ProcessId -Counter requests-per-second -Duration 1 -WarningAction SilentlyContinue -ErrorAction Stop } | Should -Not -Throw
    }

    It 'takes plain seconds for -Interval and -Duration' {
        $samples = Get-GcCounter -ProcessId $target.ProcessId -Counter gc-heap-size -Interval 2 -MaxSamples 2
        $samples | Should -HaveCount 2
        ($samples[1].Timestamp - $samples[0].Timestamp).TotalSeconds | Should -BeGreaterThan 1.5
    }
}

Describe 'Get-GcCounter against a frozen target' {
    It 'gives a Timeout error instead of hanging, and goes on with the good target' {
        $frozen = Start-TestTarget
        kill -STOP $frozen.ProcessId
        try {
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $samples = Get-GcCounter -ProcessId $frozen.ProcessId, $target.ProcessId -Counter gc-heap-size -ErrorVariable err -ErrorAction SilentlyContinue
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 25
            $samples.ProcessId | Should -Be $target.ProcessId
            $err[0].FullyQualifiedErrorId | Should -BeLike 'Timeout,*'
            $err[0].Exception.Message | Should -BeLike '*stopped or frozen*'
        } finally {
            kill -CONT $frozen.ProcessId
            $frozen | Stop-TestTarget
        }
    }
}

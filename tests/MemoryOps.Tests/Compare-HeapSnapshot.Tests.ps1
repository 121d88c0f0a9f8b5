BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force
    $script:target = Start-TestTarget
    Send-TestTarget $target 'leak 50000' | Out-Null
    $script:before = New-HeapSnapshot -ProcessId $target.ProcessId
    Send-TestTarget $target 'leak 200000' | Out-Null
    $script:after = New-HeapSnapshot -ProcessId $target.ProcessId
}

AfterAll {
    $script:target | Stop-TestTarget
}

Describe 'Compare-HeapSnapshot' {
    It 'finds exactly the leaked OrderStat objects among the top growers' {
        $deltas = Compare-HeapSnapshot -ReferenceSnapshot $before -DifferenceSnapshot $after
        $deltas[0] | Should -BeOfType ([MemoryOps.HeapTypeDelta])
        $order = $deltas | Where-Object TypeName -eq 'OrderService.OrderStat'
        $order.CountDelta | Should -Be 200000
        $order.BytesDelta | Should -Be (200000 * 80)
        $order.Status | Should -Be 'Grown'
        $order.GrowthPercent | Should -Be 400
        $deltas[0].TypeName | Should -Be 'OrderService.OrderStat' -Because 'the leaked values (80 B) outgrow their keys (56 B)'
        # Sorted by bytes growth, largest first.
        for ($i = 1; $i -lt $deltas.Count; $i++) { $deltas[$i].BytesDelta | Should -BeLessOrEqual $deltas[$i - 1].BytesDelta }
        $deltas.Status | Should -Not -Contain 'Unchanged'
    }

    It 'takes the difference snapshot from the pipeline, with -Top and -TypeName' {
        $top = $after | Compare-HeapSnapshot -ReferenceSnapshot $before -Top 2
        $top | Should -HaveCount 2
        $only = $after | Compare-HeapSnapshot $before -TypeName 'OrderService.*'
        $only.TypeName | Should -Be 'OrderService.OrderStat'
    }

    It 'summarizes the whole heap with -Summary' {
        $s = Compare-HeapSnapshot $before $after -Summary
        $s | Should -BeOfType ([MemoryOps.HeapComparison])
        $s.BytesDelta | Should -Be ($after.TotalBytes - $before.TotalBytes)
        $s.CountDelta | Should -BeGreaterOrEqual 400000 -Because '200,000 OrderStat and 200,000 key strings'
        $s.TopGrowthType | Should -Be $((Compare-HeapSnapshot $before $after)[0].TypeName)
    }

    It 'compares a live snapshot with a snapshot read from a saved file and from a dump' {
        $dir = Join-Path ([IO.Path]::GetTempPath()) "memoryops-cmp-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        New-Item -ItemType Directory $dir | Out-Null
        try {
            $before | Export-HeapSnapshot -Path (Join-Path $dir 'baseline.json.gz')
            $baseline = Import-HeapSnapshot (Join-Path $dir 'baseline.json.gz')
            $fromDump = New-MemoryDump -ProcessId $target.ProcessId -Path $dir | New-HeapSnapshot -LiveOnly
            $deltas = $fromDump | Compare-HeapSnapshot -ReferenceSnapshot $baseline -WarningVariable warn
            $warn | Should -BeNullOrEmpty
            ($deltas | Where-Object TypeName -eq 'OrderService.OrderStat').CountDelta | Should -Be 200000
            $mixed = New-HeapSnapshot -DumpPath (Get-ChildItem $dir -Filter *.dmp).FullName | Compare-HeapSnapshot $baseline -WarningVariable warn2 -WarningAction SilentlyContinue
            $warn2 | Should -Not -BeNullOrEmpty -Because 'a dump read without -LiveOnly also holds dead objects'
            $mixed.TypeName | Should -Not -Contain 'Free'
        } finally { Remove-Item $dir -Recurse -Force }
    }

    It 'shows nothing grown for the same snapshot, and everything with -IncludeUnchanged' {
        Compare-HeapSnapshot $after $after | Should -BeNullOrEmpty
        (Compare-HeapSnapshot $after $after -IncludeUnchanged).Count | Should -Be $after.Types.Count
    }
}

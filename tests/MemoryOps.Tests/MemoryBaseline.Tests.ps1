BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force
    $script:target = Start-TestTarget
    Send-TestTarget $target 'leak 20000' | Out-Null
    $script:snapshot = New-HeapSnapshot -ProcessId $target.ProcessId
    $script:savedStoreVariable = $env:MEMORYOPS_BASELINE_STORE
}

AfterAll {
    $script:target | Stop-TestTarget
    $env:MEMORYOPS_BASELINE_STORE = $script:savedStoreVariable
}

Describe 'Save-MemoryBaseline and Get-MemoryBaseline' {
    BeforeEach {
        $script:store = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
    }

    It 'appends snapshots and counter samples to a history and returns the latest entry' {
        $snapshot | Save-MemoryBaseline -Name orders -Store $store
        $samples = Get-GcCounter -ProcessId $target.ProcessId -Counter gc-heap-size -MaxSamples 3
        $saved = $samples | Save-MemoryBaseline -Name orders -Store $store -PassThru
        $saved | Should -BeOfType ([MemoryOps.MemoryBaselineEntry])
        $saved.Kind | Should -Be 'Counters'
        # The counter entry holds the mean of the samples given (independent: Measure-Object on the same samples).
        $saved.Metrics['gc-heap-size'] | Should -Be ($samples | Measure-Object Value -Average).Average

        $history = Get-MemoryBaseline -Name orders -Store $store -History
        $history | Should -HaveCount 2
        $history[0].Kind | Should -Be 'Snapshot'
        $history[0].Snapshot.Types.Count | Should -Be $snapshot.Types.Count
        ($history[0].Snapshot.Types | Where-Object TypeName -eq 'OrderService.OrderStat').Count | Should -Be 20000
        $history[0].Metrics['TotalBytes'] | Should -Be $snapshot.TotalBytes
        (Get-MemoryBaseline -Name orders -Store $store).Kind | Should -Be 'Counters' -Because 'the latest entry is the default'
        (Get-Item (Join-Path $store 'orders.baseline.json.gz')).UnixMode | Should -Be '-rw-------'
    }

    It 'computes statistics that agree with Measure-Object over the history' {
        foreach ($i in 1..4) {
            $s = [MemoryOps.HeapSnapshot]@{ Source = 'Process'; ProcessName = 'svc'; Timestamp = [datetime]::UtcNow.AddMinutes($i); TotalBytes = 1000 * $i * $i; ObjectCount = 10 * $i }
            $s.Types.Add([MemoryOps.HeapTypeStat]@{ TypeName = 'OrderStat'; Count = $i; TotalBytes = 80 * $i })
            $s | Save-MemoryBaseline -Name stats -Store $store
        }
        $stats = Get-MemoryBaseline -Name stats -Store $store -Statistics
        $total = $stats | Where-Object { $_.Kind -eq 'Metric' -and $_.Name -eq 'TotalBytes' }
        $truth = 1..4 | ForEach-Object { 1000 * $_ * $_ } | Measure-Object -Average -StandardDeviation -Minimum -Maximum
        $total.Count | Should -Be 4
        $total.Mean | Should -Be $truth.Average
        $total.StandardDeviation | Should -BeGreaterThan ($truth.StandardDeviation - 1e-6)
        $total.StandardDeviation | Should -BeLessThan ($truth.StandardDeviation + 1e-6)
        $total.Minimum | Should -Be 1000
        $total.Maximum | Should -Be 16000
        ($stats | Where-Object { $_.Kind -eq 'TypeBytes' -and $_.Name -eq 'OrderStat' }).Mean | Should -Be 200
    }

    It 'keeps at most -MaxHistory entries, dropping the oldest' {
        foreach ($i in 1..5) {
            [MemoryOps.HeapSnapshot]@{ Source = 'Process'; Timestamp = [datetime]::new(2026, 1, $i, 0, 0, 0, [DateTimeKind]::Utc); TotalBytes = $i } | Save-MemoryBaseline -Name capped -Store $store -MaxHistory 3
        }
        (Get-MemoryBaseline -Name capped -Store $store -History).Metrics.TotalBytes | Should -Be @(3, 4, 5)
    }

    It 'uses MEMORYOPS_BASELINE_STORE when -Store is not given, and lists every baseline with wildcards' {
        $env:MEMORYOPS_BASELINE_STORE = $store
        try {
            $snapshot | Save-MemoryBaseline -Name nightly-a
            $snapshot | Save-MemoryBaseline -Name nightly-b
            $snapshot | Save-MemoryBaseline -Name other
            Test-Path (Join-Path $store 'nightly-a.baseline.json.gz') | Should -BeTrue
            (Get-MemoryBaseline -Name 'nightly-*').Name | Should -Be @('nightly-a', 'nightly-b')
            (Get-MemoryBaseline).Name | Should -Be @('nightly-a', 'nightly-b', 'other')
            # Pipeline by property name: the entries' Name picks the baselines.
            (Get-MemoryBaseline -Name 'nightly-*' | Get-MemoryBaseline -History) | Should -HaveCount 2
        } finally { $env:MEMORYOPS_BASELINE_STORE = $script:savedStoreVariable }
    }

    It 'completes baseline names from the store' {
        $snapshot | Save-MemoryBaseline -Name checkout-nightly -Store $store
        $snapshot | Save-MemoryBaseline -Name checkout-hourly -Store $store
        $line = "Get-MemoryBaseline -Store '$store' -Name checkout-n"
        $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $completion.CompletionMatches.CompletionText | Should -Be @('checkout-nightly')
    }

    It 'loses no entry when two processes save to the same baseline at the same time' {
        $file = Join-Path $TestDrive 'snap.json'
        $snapshot | Export-HeapSnapshot -Path $file
        $script = Join-Path $TestDrive 'writer.ps1'
        Set-Content $script @'
param($ModulePath, $SnapshotPath, $Store, $Count)
Import-Module $ModulePath
$s = Import-HeapSnapshot $SnapshotPath
for ($i = 0; $i -lt $Count; $i++) { $s | Save-MemoryBaseline -Name shared -Store $Store -MaxHistory 1000 }
'@
        $writers = 1..2 | ForEach-Object {
            $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
            foreach ($a in 'pwsh', '-NoProfile', '-NonInteractive', '-File', $script, $env:MEMORYOPS_MODULE_PATH, $file, $store, '25') { $psi.ArgumentList.Add($a) }
            $psi.WorkingDirectory = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
            $psi.UseShellExecute = $false
            [System.Diagnostics.Process]::Start($psi)
        }
        foreach ($w in $writers) { $w.WaitForExit(120000) | Should -BeTrue; $w.ExitCode | Should -Be 0 }
        (Get-MemoryBaseline -Name shared -Store $store -History) | Should -HaveCount 50
        Get-ChildItem $store -Force -Filter '*.tmp' | Should -BeNullOrEmpty
    }

    It 'reports a missing baseline as not found, and goes on with the others' {
        $snapshot | Save-MemoryBaseline -Name present -Store $store
        $found = Get-MemoryBaseline -Name missing, present -Store $store -ErrorVariable err -ErrorAction SilentlyContinue
        $found.Name | Should -Be 'present'
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'BaselineNotFound,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -Be 'missing'
    }

    It 'refuses a corrupt baseline file by name and leaves it as it was' {
        New-Item -ItemType Directory $store | Out-Null
        $file = Join-Path $store 'broken.baseline.json.gz'
        Set-Content $file 'not a baseline'
        $before = Get-FileHash $file
        { $snapshot | Save-MemoryBaseline -Name broken -Store $store -ErrorAction Stop } | Should -Throw "*$file*"
        (Get-FileHash $file).Hash | Should -Be $before.Hash
        Get-MemoryBaseline -Name broken -Store $store -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidData,*'
    }

    It 'refuses a name that could leave the store, and writes nothing with -WhatIf' {
        { $snapshot | Save-MemoryBaseline -Name '../escape' -Store $store -ErrorAction Stop } | Should -Throw '*not a valid baseline name*'
        $snapshot | Save-MemoryBaseline -Name dry -Store $store -WhatIf
        Test-Path (Join-Path $store 'dry.baseline.json.gz') | Should -BeFalse
    }

    It 'refuses input it cannot save, naming the type' {
        'text' | Save-MemoryBaseline -Name x -Store $store -ErrorVariable err -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'UnsupportedInput,*'
        Test-Path (Join-Path $store 'x.baseline.json.gz') | Should -BeFalse
    }
}

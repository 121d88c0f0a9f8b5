BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force
    $script:target = Start-TestTarget
    # Compiles the workload's methods before any window opens (so their first allocations are ordinary ones).
    $null = Send-TestTarget $target 'allocate 5'

    # The truth: the target's "allocate MB" allocates at least MB megabytes of each of three types from three known
    # methods, and replies with each type's exact count and bytes (GC.GetAllocatedBytesForCurrentThread around each call).
    $script:AllocateMB = 200   # per type: 600 MB in the window, ~1,950 samples per small type, a relative error of ~2.3 %
    $script:Expected = @{
        'OrderService.Invoice'       = @{ Key = 'invoices'; Method = 'OrderService.Billing.CreateInvoices*' }
        'OrderService.InvoiceLine[]' = @{ Key = 'lines'; Method = 'OrderService.Billing.AddLines*' }
        'OrderService.PdfByte[]'     = @{ Key = 'pdfs'; Method = 'OrderService.Billing.RenderPdf*' }   # 100,024 bytes each: the large object heap
    }

    function script:ConvertFrom-AllocateAnswer([string] $Answer) {
        $truth = @{}
        foreach ($m in [regex]::Matches($Answer, '(\w+)=(\d+):(\d+)')) {
            $truth[$m.Groups[1].Value] = @{ Count = [long]$m.Groups[2].Value; Bytes = [long]$m.Groups[3].Value }
        }
        $truth
    }

    # Opens Get-AllocationProfile on the target in another runspace, waits (bounded) until its session is open, has the
    # target allocate, and returns the profile with the target's answer. The window must hold every allocation: it is
    # sized from a timed run of the same work, and when the target was so slow that the window closed first, the
    # attempt is repeated with a window twice as long (three attempts at most). Nothing depends on the machine's speed.
    function script:Invoke-ProfiledAllocation([hashtable] $Parameters = @{}, [int] $MB = $AllocateMB) {
        $timed = Send-TestTarget $target 'allocate 20'
        $seconds = [double]($timed -replace '.*seconds=', '') * $MB / 20
        $window = [Math]::Ceiling([Math]::Max(6, 4 * $seconds + 4))
        for ($attempt = 1; $attempt -le 3; $attempt++) {
            $collector = [PowerShell]::Create()
            try {
                $null = $collector.AddCommand('Import-Module').AddArgument($env:MEMORYOPS_MODULE_PATH).AddStatement().
                    AddCommand('Get-AllocationProfile').AddParameter('ProcessId', $target.ProcessId).AddParameter('Duration', $window).AddParameter('Verbose')
                foreach ($k in $Parameters.Keys) { $null = $collector.AddParameter($k, $Parameters[$k]) }
                $async = $collector.BeginInvoke()
                $deadline = [DateTime]::UtcNow.AddSeconds(60)
                while (-not ($collector.Streams.Verbose | Where-Object Message -like '*the session is open*')) {
                    if ([DateTime]::UtcNow -gt $deadline -or $async.IsCompleted) { throw "The session did not open: $($collector.Streams.Error)" }
                    Start-Sleep -Milliseconds 50
                }
                $answer = Send-TestTarget $target "allocate $MB"
                $inWindow = -not $async.IsCompleted
                $profile = $collector.EndInvoke($async)
                if ($collector.Streams.Error.Count) { throw "Get-AllocationProfile failed: $($collector.Streams.Error)" }
                if ($inWindow) { return [pscustomobject]@{ Profile = $profile[0]; Truth = ConvertFrom-AllocateAnswer $answer; Answer = $answer } }
            } finally { $collector.Dispose() }
            $window *= 2
        }
        throw "The target never finished allocating within a window (last: $window s)."
    }
}

AfterAll {
    $script:target | Stop-TestTarget
}

Describe 'Get-AllocationProfile' {
    It 'estimates each type''s allocated bytes and objects within 10 % of what the target allocated (randomized sampling)' {
        $run = Invoke-ProfiledAllocation
        $p = $run.Profile
        $p | Should -BeOfType ([MemoryOps.AllocationProfile])
        $p.Method | Should -Be 'Randomized'
        $p.SamplingDistance | Should -Be 102400
        $p.ProcessId | Should -Be $target.ProcessId
        $p.EventsLost | Should -Be 0
        $p.Duration | Should -BeGreaterThan 0
        foreach ($type in $Expected.Keys) {
            $truth = $run.Truth[$Expected[$type].Key]
            $row = $p.Types | Where-Object TypeName -eq $type
            $row | Should -HaveCount 1 -Because "$type was allocated ($($run.Answer))"
            Write-Host ("    {0,-28} bytes {1,12:N0} vs {2,12:N0} ({3:+0.0;-0.0} %), objects {4,10:N0} vs {5,10:N0} ({6:+0.0;-0.0} %), {7} samples, ±{8:0.0} % (1 SE)" -f $type,
                $row.EstimatedBytes, $truth.Bytes, (100 * ($row.EstimatedBytes / $truth.Bytes - 1)), $row.EstimatedCount, $truth.Count,
                (100 * ($row.EstimatedCount / $truth.Count - 1)), $row.SampleCount, (100 * $row.RelativeError))
            # Other code of the target allocates too (a few KB): a type's truth is at least what the workload made.
            $row.EstimatedBytes | Should -BeGreaterOrEqual ($truth.Bytes * 0.9)
            $row.EstimatedBytes | Should -BeLessOrEqual ($truth.Bytes * 1.1)
            $row.EstimatedCount | Should -BeGreaterOrEqual ($truth.Count * 0.9)
            $row.EstimatedCount | Should -BeLessOrEqual ($truth.Count * 1.1)
            $row.RelativeError | Should -BeLessThan 0.05
            $row.BytesPerSecond | Should -Be ($row.EstimatedBytes / $p.Duration)
        }
        @($p.Types)[0..2].TypeName | Sort-Object | Should -Be ($Expected.Keys | Sort-Object)
        $p.TotalBytes | Should -BeGreaterOrEqual (($run.Truth.Values | Measure-Object Bytes -Sum).Sum * 0.9)
        Wait-TestTargetSessionsClosed $target | Should -Be 'OK sessions enabled='
    }

    It '-Stack names the allocating method of each type' {
        $run = Invoke-ProfiledAllocation @{ Stack = $true }
        $p = $run.Profile
        foreach ($type in $Expected.Keys) {
            $rows = @($p.Stacks | Where-Object TypeName -eq $type)
            $rows.Count | Should -BeGreaterThan 0 -Because "$type was allocated"
            $main = $rows | Sort-Object EstimatedBytes -Descending | Select-Object -First 1
            $main.Stack[0] | Should -BeLike $Expected[$type].Method
            $main.Stack | Should -Contain ($main.Stack | Where-Object { $_ -like 'OrderService.Billing.Run*' })
            $main.Stack[-1] | Should -BeLike 'OrderService.Program.Main*'
            $truth = $run.Truth[$Expected[$type].Key]
            $main.EstimatedBytes | Should -BeGreaterOrEqual ($truth.Bytes * 0.9)
            $main.EstimatedBytes | Should -BeLessOrEqual ($truth.Bytes * 1.1)
        }
    }

    It 'falls back to GCAllocationTick with -Method AllocationTick, marked as biased (no error given); -Top keeps the largest rows' {
        $run = Invoke-ProfiledAllocation @{ Method = 'AllocationTick'; Top = 2 } -MB 50
        $p = $run.Profile
        $p.Method | Should -Be 'AllocationTick'
        $p.RelativeError | Should -BeNullOrEmpty
        $p.Types | Should -HaveCount 2
        $p.TypeCount | Should -BeGreaterOrEqual 3
        @($p.Types).TypeName | ForEach-Object { $Expected.Keys | Should -Contain $_ }
        foreach ($row in $p.Types) { $row.RelativeError | Should -BeNullOrEmpty }
    }

    It '-Continuous writes one profile per window until stopped' {
        $collector = [PowerShell]::Create()
        $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
        try {
            $null = $collector.AddCommand('Import-Module').AddArgument($env:MEMORYOPS_MODULE_PATH).AddStatement().
                AddCommand('Get-AllocationProfile').AddParameter('ProcessId', $target.ProcessId).AddParameter('Duration', 1).AddParameter('Continuous')
            $async = $collector.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]$null, $output)
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while ($output.Count -lt 3 -and [DateTime]::UtcNow -lt $deadline -and -not $async.IsCompleted) {
                $null = Send-TestTarget $target 'allocate 5'
                Start-Sleep -Milliseconds 200
            }
            $collector.Stop()
        } finally { $collector.Dispose() }
        $output.Count | Should -BeGreaterOrEqual 3
        for ($i = 1; $i -lt 3; $i++) {
            $output[$i].Start | Should -BeGreaterOrEqual $output[$i - 1].End
            $output[$i].Duration | Should -BeGreaterOrEqual 1
        }
        @($output | Where-Object { $_.Types.TypeName -contains 'OrderService.Invoice' }).Count | Should -BeGreaterThan 0
    }

    It 'refuses -Stack with -Continuous, and names a process that is not there' {
        { Get-AllocationProfile -ProcessId $target.ProcessId -Stack -Continuous -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidInput,MemoryOps.Commands.GetAllocationProfileCommand'
        $p = Get-AllocationProfile -ProcessId 999999 -Duration 1 -ErrorVariable err -ErrorAction SilentlyContinue
        $p | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ProcessNotFound,*'
        $err[0].TargetObject | Should -Be 999999
    }
}

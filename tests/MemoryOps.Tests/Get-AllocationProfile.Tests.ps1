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
            # One script, not a batch of statements: stopping a batch mid-way takes the PowerShell process down.
            $null = $collector.AddScript('param($m, $id) Import-Module $m; Get-AllocationProfile -ProcessId $id -Duration 1 -Continuous').
                AddArgument($env:MEMORYOPS_MODULE_PATH).AddArgument($target.ProcessId)
            $async = $collector.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]$null, $output)
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while ($output.Count -lt 3 -and [DateTime]::UtcNow -lt $deadline -and -not $async.IsCompleted) {
                $null = Send-TestTarget $target 'allocate 5'
                Start-Sleep -Milliseconds 200
            }
            $collector.Stop()
        } finally { $collector.Dispose() }
        $output.Count | Should -BeGreaterOrEqual 3
        # Samples are counted by when they were allocated: the windows are back to back and exactly -Duration long,
        # whenever the pipeline thread got round to closing them.
        for ($i = 1; $i -lt 3; $i++) {
            $output[$i].Start | Should -Be $output[$i - 1].End
            $output[$i].Duration | Should -Be 1
            $output[$i].EventsLost | Should -Be 0
        }
        @($output | Where-Object { $_.Types.TypeName -contains 'OrderService.Invoice' }).Count | Should -BeGreaterThan 0
    }

    It 'ends with TargetExited, and no profile, when the target exits mid-window' {
        $victim = Start-TestTarget
        try {
            $collector = [PowerShell]::Create()
            $null = $collector.AddScript('param($m, $id) Import-Module $m; Get-AllocationProfile -ProcessId $id -Duration 60 -Verbose').
                AddArgument($env:MEMORYOPS_MODULE_PATH).AddArgument($victim.ProcessId)
            $async = $collector.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not ($collector.Streams.Verbose | Where-Object Message -like '*the session is open*')) {
                if ([DateTime]::UtcNow -gt $deadline -or $async.IsCompleted) { throw "The session did not open: $($collector.Streams.Error)" }
                Start-Sleep -Milliseconds 50
            }
            $victim.Process.Kill()
            # Bounded: the cmdlet must end by itself long before its 60 s window.
            $async.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(30)) | Should -BeTrue
            $profiles = $collector.EndInvoke($async)
            $profiles.Count | Should -Be 0
            $collector.Streams.Error[0].FullyQualifiedErrorId | Should -BeLike 'TargetExited,*'
            $collector.Streams.Error[0].TargetObject | Should -Be $victim.ProcessId
            $collector.Dispose()
        } finally { $victim | Stop-TestTarget }
    }

    Context '-Stack on a target frozen mid-window (kill -STOP)' {
        BeforeEach {
            # The session's private folder is made under TMPDIR (read when it is made): a folder of this test's own, so
            # what is left there is this run's, whatever else runs on the machine. The target shares it (its diagnostic
            # socket is found there).
            $script:tmp = Join-Path ([IO.Path]::GetTempPath()) "memoryops-frozen-$PID-$([guid]::NewGuid().ToString('N').Substring(0, 6))"
            New-Item -ItemType Directory $tmp | Out-Null
            $script:victim = Start-TestTarget -Environment @{ TMPDIR = $tmp }
            $script:oldTmp = $env:TMPDIR
            $env:TMPDIR = $tmp
            $script:collector = [PowerShell]::Create()
            $null = $collector.AddScript('param($m, $id, $d) Import-Module $m; Get-AllocationProfile -ProcessId $id -Duration $d -Stack -Verbose').
                AddArgument($env:MEMORYOPS_MODULE_PATH).AddArgument($victim.ProcessId)
        }
        AfterEach {
            $env:TMPDIR = $oldTmp
            if (-not $victim.Process.HasExited) { kill -CONT $victim.ProcessId }
            $collector.Dispose()
            $victim | Stop-TestTarget
            Remove-Item $tmp -Recurse -Force -ErrorAction SilentlyContinue
        }

        It 'ends with a Timeout error naming the PID, no profile, and no temporary folder left' {
            $async = $collector.AddArgument(4).BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not ($collector.Streams.Verbose | Where-Object Message -like '*the session is open*')) {
                if ([DateTime]::UtcNow -gt $deadline -or $async.IsCompleted) { throw "The session did not open: $($collector.Streams.Error)" }
                Start-Sleep -Milliseconds 50
            }
            @(Get-ChildItem $tmp -Directory -Filter 'memoryops-alloc-*') | Should -HaveCount 1 -Because 'the session writes to its folder under TMPDIR'
            kill -STOP $victim.ProcessId
            $frozen = [Diagnostics.Stopwatch]::StartNew()
            # Bounded: the 4 s window, then 5 s for the frozen target to answer the request to stop.
            $async.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(60)) | Should -BeTrue -Because 'a frozen target must not hang the cmdlet'
            Write-Host ("    ended {0:N1} s after the freeze (window 4 s)" -f $frozen.Elapsed.TotalSeconds)
            $frozen.Elapsed.TotalSeconds | Should -BeLessThan 40
            $profiles = $collector.EndInvoke($async)
            $profiles.Count | Should -Be 0
            $err = @($collector.Streams.Error)
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'Timeout,*'
            $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
            $err[0].TargetObject | Should -Be $victim.ProcessId
            $err[0].Exception.Message | Should -BeLike "Process $($victim.ProcessId) did not end its diagnostic session (is it stopped or frozen?)*"
            Get-ChildItem $tmp -Directory -Filter 'memoryops-alloc-*' | Should -BeNullOrEmpty
        }

        It 'stops on Ctrl+C and leaves no temporary folder' {
            $async = $collector.AddArgument(600).BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not ($collector.Streams.Verbose | Where-Object Message -like '*the session is open*')) {
                if ([DateTime]::UtcNow -gt $deadline -or $async.IsCompleted) { throw "The session did not open: $($collector.Streams.Error)" }
                Start-Sleep -Milliseconds 50
            }
            @(Get-ChildItem $tmp -Directory -Filter 'memoryops-alloc-*') | Should -HaveCount 1 -Because 'the session writes to its folder under TMPDIR'
            kill -STOP $victim.ProcessId
            $stopping = [Diagnostics.Stopwatch]::StartNew()
            $collector.Stop()
            Write-Host ("    stopped in {0:N1} s" -f $stopping.Elapsed.TotalSeconds)
            # The session's thread lets go of the target within its 5 s stop timeout, and removes its folder then.
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while ((Get-ChildItem $tmp -Directory -Filter 'memoryops-alloc-*') -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
            Get-ChildItem $tmp -Directory -Filter 'memoryops-alloc-*' | Should -BeNullOrEmpty
            $stopping.Elapsed.TotalSeconds | Should -BeLessThan 30
        }
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

Describe 'Export-AllocationProfile, Compare-AllocationProfile and rules on allocation profiles' {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'TestFleet.psm1') -Force   # Install-DebianPackage
        # go tool pprof, from Debian's packages, is the independent reader of the exported files.
        Install-DebianPackage -Command go -Package golang-go
        $script:dir = Join-Path ([IO.Path]::GetTempPath()) "memoryops-alloc-$PID-$([guid]::NewGuid().ToString('N').Substring(0, 6))"
        New-Item -ItemType Directory $dir | Out-Null
        $script:before = (Invoke-ProfiledAllocation -MB 20).Profile
        $script:afterRun = Invoke-ProfiledAllocation @{ Stack = $true }
        $script:after = $afterRun.Profile

        function script:Invoke-Pprof([string[]] $Arguments) {
            $out = & go tool pprof @Arguments 2>&1
            if ($LASTEXITCODE -ne 0) { throw "go tool pprof $Arguments failed: $out" }
            $out | ForEach-Object { "$_" }
        }
        # The rows of pprof -top -unit=B (or of a count): flat and cumulative values and the name; 0 has no unit.
        function script:ConvertFrom-PprofTop([string[]] $Lines) {
            foreach ($line in $Lines) {
                if ($line -match '^\s*(-?\d+)B?\s+\S+%\s+\S+%\s+(-?\d+)B?\s+\S+%\s+(.+)$') {
                    [pscustomobject]@{ Flat = [long]$Matches[1]; Cum = [long]$Matches[2]; Name = $Matches[3].Trim() }
                }
            }
        }
    }

    AfterAll { if ($dir) { Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue } }

    It 'writes a gzipped pprof profile whose top types, as go tool pprof prints them, are the profile''s' {
        $file = Join-Path $dir 'after.pb.gz'
        $item = $after | Export-AllocationProfile -Path $file -PassThru
        $item.FullName | Should -Be $file
        # gzip magic
        [IO.File]::ReadAllBytes($file)[0..1] | Should -Be @(0x1f, 0x8b)
        $top = ConvertFrom-PprofTop (Invoke-Pprof '-top', '-unit=B', $file)
        $top | Should -Not -BeNullOrEmpty
        $types = $top | Where-Object Flat -gt 0 | Select-Object -First 3
        $types.Name | Sort-Object | Should -Be ($Expected.Keys | Sort-Object)
        foreach ($t in $types) {
            $row = $after.Types | Where-Object TypeName -eq $t.Name
            [Math]::Abs($t.Flat - $row.EstimatedBytes) | Should -BeLessOrEqual ([Math]::Max(1, @($after.Stacks | Where-Object TypeName -eq $t.Name).Count))
        }
        # The allocating methods are frames: their cumulative bytes are those of the type they allocate.
        $method = $top | Where-Object Name -like 'OrderService.Billing.CreateInvoices*'
        $method.Cum | Should -BeGreaterOrEqual (($after.Types | Where-Object TypeName -eq 'OrderService.Invoice').EstimatedBytes * 0.99)
        # The other sample type is the object count.
        $objects = ConvertFrom-PprofTop (Invoke-Pprof '-top', '-sample_index=alloc_objects', $file)
        ($objects | Where-Object Name -eq 'OrderService.Invoice').Flat |
            Should -BeGreaterOrEqual ($afterRun.Truth['invoices'].Count * 0.9)
    }

    It 'writes files go tool pprof -diff_base compares: the difference per type is the profiles'' difference' {
        $base = Join-Path $dir 'before.pb.gz'
        $new = Join-Path $dir 'after-nostack.pb.gz'
        $before | Export-AllocationProfile -Path $base
        $after | Export-AllocationProfile -Path $new
        $diff = ConvertFrom-PprofTop (Invoke-Pprof '-top', '-unit=B', '-diff_base', $base, $new)
        foreach ($type in $Expected.Keys) {
            $d = $diff | Where-Object Name -eq $type
            $d | Should -Not -BeNullOrEmpty -Because "$type is in both profiles"
            $want = ($after.Types | Where-Object TypeName -eq $type).EstimatedBytes - ($before.Types | Where-Object TypeName -eq $type).EstimatedBytes
            [Math]::Abs($d.Flat - $want) | Should -BeLessOrEqual 1000
        }
    }

    It 'writes speedscope JSON with one weighted sample per stack, root first' {
        $file = Join-Path $dir 'after.speedscope.json'
        $after | Export-AllocationProfile -Path $file -Format Speedscope
        $json = Get-Content $file -Raw | ConvertFrom-Json
        $json.'$schema' | Should -Be 'https://www.speedscope.app/file-format-schema.json'
        $space = $json.profiles | Where-Object name -eq 'alloc_space'
        $space.type | Should -Be 'sampled'
        $space.unit | Should -Be 'bytes'
        $space.samples.Count | Should -Be $after.Stacks.Count
        $i = [array]::IndexOf(@($json.shared.frames.name), 'OrderService.Invoice')
        $i | Should -BeGreaterOrEqual 0
        $k = 0; $found = $false
        foreach ($s in $space.samples) {
            if ($s[-1] -eq $i) {
                $json.shared.frames[$s[0]].name | Should -BeLike 'OrderService.Program.Main*'
                $json.shared.frames[$s[-2]].name | Should -BeLike 'OrderService.Billing.CreateInvoices*'
                $space.weights[$k] | Should -BeGreaterThan 0
                $found = $true
            }
            $k++
        }
        $found | Should -BeTrue
    }

    It 'does not overwrite a file without -Force' {
        $file = Join-Path $dir 'exists.pb.gz'
        Set-Content $file 'mine'
        $after | Export-AllocationProfile -Path $file -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'FileExists,*'
        Get-Content $file | Should -Be 'mine'
    }

    It 'Compare-AllocationProfile names the types whose rate changed, with significance' {
        $deltas = Compare-AllocationProfile -ReferenceProfile $before -DifferenceProfile $after
        $deltas[0] | Should -BeOfType ([MemoryOps.AllocationTypeDelta])
        foreach ($type in $Expected.Keys) {
            $d = $deltas | Where-Object TypeName -eq $type
            $d.BytesPerSecondDelta | Should -Be ($d.DifferenceBytesPerSecond - $d.ReferenceBytesPerSecond)
            $d.ReferenceBytesPerSecond | Should -Be ($before.Types | Where-Object TypeName -eq $type).BytesPerSecond
        }
        # The same profile against itself: nothing changed, nothing significant.
        $same = Compare-AllocationProfile $after $after
        @($same | Where-Object Significant).Count | Should -Be 0
        @($same | Where-Object Status -ne 'Unchanged').Count | Should -Be 0
        (Compare-AllocationProfile $before $after -TypeName 'OrderService.*' -Top 2) | Should -HaveCount 2
    }

    It 'Compare-AllocationProfile leaves out the types a -Top profile may only have cut, with one warning' {
        $top = (Invoke-ProfiledAllocation @{ Top = 1 } -MB 20).Profile
        $top.Types | Should -HaveCount 1
        $top.TypeCount | Should -BeGreaterThan 1
        $deltas = @(Compare-AllocationProfile $after $top -WarningVariable warnings -WarningAction SilentlyContinue)
        # Only the one type both hold: the others of $after may be allocated in $top's window too, below its top row.
        $deltas | Should -HaveCount 1
        $deltas[0].TypeName | Should -Be $top.Types[0].TypeName
        $deltas[0].Status | Should -BeIn 'Grown', 'Shrunk', 'Unchanged'
        $warnings | Should -HaveCount 1
        $warnings[0].Message | Should -BeLike "The difference profile holds only 1 of its $($top.TypeCount) types (-Top): $($after.Types.Count - 1) type(s) missing from it*left out*"
        # A complete profile against itself has nothing to leave out.
        $null = Compare-AllocationProfile $after $after -WarningVariable none
        $none | Should -BeNullOrEmpty
    }

    It 'Compare-AllocationProfile -Significant refuses a profile estimated from AllocationTick events (InvalidInput naming it)' {
        $tick = Get-AllocationProfile -ProcessId $target.ProcessId -Method AllocationTick -Duration 1
        $tick.Method | Should -Be 'AllocationTick'
        $out = Compare-AllocationProfile $after $tick -Significant -ErrorVariable err -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -Be 'InvalidInput,MemoryOps.Commands.CompareAllocationProfileCommand'
        $err[0].TargetObject.Method | Should -Be 'AllocationTick'
        $err[0].TargetObject.End | Should -Be $tick.End
        $err[0].Exception.Message | Should -BeLike '-Significant needs two profiles from randomized sampling: the difference profile*AllocationTick*'
        # Without -Significant the comparison is made (with the warning that the methods differ).
        @(Compare-AllocationProfile $after $tick -WarningAction SilentlyContinue).Count | Should -BeGreaterThan 0
    }

    It 'New-MemoryRule -MaxAllocationRate judges the rate of matching types in a profile' {
        $invoiceRate = ($after.Types | Where-Object TypeName -eq 'OrderService.Invoice').BytesPerSecond
        $strict = New-MemoryRule -TypeName 'OrderService.*' -MaxAllocationRate ($invoiceRate / 2) -Name strict
        $loose = New-MemoryRule -TypeName 'OrderService.Invoice' -MaxAllocationRate ($invoiceRate * 2) -Name loose
        $results = $after | Test-MemoryThreshold -Rule $strict, $loose
        $strictResults = @($results | Where-Object Rule -eq 'strict')
        $strictResults.Subject | Sort-Object | Should -Be ($Expected.Keys | Where-Object { $_ -like 'OrderService.*' } | Sort-Object)
        $strictResults | ForEach-Object { $_.Passed | Should -BeFalse; $_.Unit | Should -Be 'bytes/s' }
        $looseResult = @($results | Where-Object Rule -eq 'loose')
        $looseResult | Should -HaveCount 1
        $looseResult[0].Passed | Should -BeTrue
        $looseResult[0].Observed | Should -Be $invoiceRate
        { $after | Test-MemoryThreshold -Rule $strict -Assert -ErrorAction Stop } | Should -Throw -ErrorId 'ThresholdViolated,*'
        # A heap-size rule says nothing about allocations, and a rate rule nothing about a heap snapshot.
        @($after | Test-MemoryThreshold -Rule (New-MemoryRule -TypeName 'OrderService.*' -MaxBytes 1) -WarningAction SilentlyContinue).Count | Should -Be 0
    }

    It 'Save-MemoryBaseline keeps a profile''s allocation rate, and a baseline rule holds a later window to it' {
        $store = Join-Path $dir 'baselines'
        $before | Save-MemoryBaseline -Name allocs -Store $store
        $entry = @(Get-MemoryBaseline -Name allocs -Store $store -History)
        $entry | Should -HaveCount 1
        $entry[0].Kind | Should -Be 'Counters'
        $entry[0].Metrics['AllocationRate'] | Should -Be $before.BytesPerSecond
        $entry[0].Units['AllocationRate'] | Should -Be 'bytes/s'
        $entry[0].Timestamp | Should -Be $before.End
        # Two windows of a real process never allocate at the very same rate: 0.001 % from the saved one breaks the rule.
        $rule = New-MemoryRule -Baseline allocs -Store $store -Counter AllocationRate -MaxDeviationPercent 0.001 -Name alloc-drift
        $result = @($after | Test-MemoryThreshold -Rule $rule)
        $result | Should -HaveCount 1
        $result[0].Observed | Should -Be $after.BytesPerSecond
        $step = $before.BytesPerSecond * 0.00001
        $result[0].Limit | Should -BeGreaterThan ($before.BytesPerSecond - 2 * $step)
        $result[0].Limit | Should -BeLessThan ($before.BytesPerSecond + 2 * $step)
        $result[0].Passed | Should -BeFalse
        ($before | Test-MemoryThreshold -Rule $rule).Passed | Should -BeTrue -Because 'the saved window is its own baseline'
    }

    It 'goes into a report as its allocation rate over time' {
        $page = Join-Path $dir 'allocations.html'
        @($before; $after) | Export-MemoryReport -Path $page -ErrorAction Stop
        $html = Get-Content -LiteralPath $page -Raw
        $data = [regex]::Match($html, '<script type="application/json" id="memoryops-data">(.*?)</script>', 'Singleline').Groups[1].Value | ConvertFrom-Json
        $chart = $data.charts | Where-Object unit -eq 'bytes/s'
        $series = $chart.series | Where-Object { $_.role -eq 'data' -and $_.label -like 'AllocationRate*' }
        @($series) | Should -HaveCount 1
        # Single-precision in the page (~7 digits): the rates of the two windows, in time order.
        $series.v.Count | Should -Be 2
        [math]::Abs($series.v[0] / $before.BytesPerSecond - 1) | Should -BeLessThan 1e-6
        [math]::Abs($series.v[1] / $after.BytesPerSecond - 1) | Should -BeLessThan 1e-6
    }

    It 'ConvertTo-OpenMetrics exposes the allocation rates' {
        $text = $after | ConvertTo-OpenMetrics
        $text | Should -Match 'memoryops_allocation_bytes_per_second\{'
        $text | Should -Match 'memoryops_allocation_type_bytes_per_second\{[^}]*type="OrderService.Invoice"'
    }

    It 'a profile survives the trip through a job (rehydrated, host kept)' {
        $copy = Start-Job { param($p) $p } -ArgumentList $after | Receive-Job -Wait -AutoRemoveJob
        $copy | Should -BeOfType ([MemoryOps.AllocationProfile])
        $copy.Types[0] | Should -BeOfType ([MemoryOps.AllocationTypeStat])
        $copy.Host | Should -Be $after.Host
        $copy.Stacks[0].Stack | Should -Be $after.Stacks[0].Stack
        $file = Join-Path $dir 'rehydrated.pb.gz'
        $copy | Export-AllocationProfile -Path $file
        (ConvertFrom-PprofTop (Invoke-Pprof '-top', '-unit=B', $file) | Where-Object Flat -gt 0 | Select-Object -First 3).Name | Sort-Object |
            Should -Be ($Expected.Keys | Sort-Object)
    }
}

Describe 'Allocation profiles of a type named with escape sequences and line breaks' {
    It 'keeps the raw name on the object and shows it escaped in the views and in pprof' {
        Import-Module (Join-Path $PSScriptRoot 'TestFleet.psm1') -Force
        Install-DebianPackage -Command go -Package golang-go
        $typeName = "Evil`e]0;pwned`a`r`nFAKE LINE`u{9b}31m.Order"
        $b64 = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($typeName))
        # 200,000 instances of 24 bytes: about 47 samples expected, so the type is seen (a miss has odds of e^-47).
        $c2 = [PowerShell]::Create()
        try {
            $null = $c2.AddScript('param($m, $id) Import-Module $m; Get-AllocationProfile -ProcessId $id -Duration 10 -Verbose').
                AddArgument($env:MEMORYOPS_MODULE_PATH).AddArgument($target.ProcessId)
            $async = $c2.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not ($c2.Streams.Verbose | Where-Object Message -like '*the session is open*')) {
                if ([DateTime]::UtcNow -gt $deadline -or $async.IsCompleted) { throw "The session did not open: $($c2.Streams.Error)" }
                Start-Sleep -Milliseconds 50
            }
            $null = Send-TestTarget $target "hostile $b64 200000"
            $async.IsCompleted | Should -BeFalse -Because 'the window must hold the allocations (they take well under a second)'
            $p = $c2.EndInvoke($async)[0]
        } finally { $c2.Dispose() }
        $row = $p.Types | Where-Object { $_.TypeName -like 'Evil*' }
        $row | Should -HaveCount 1
        $row.TypeName | Should -BeExactly $typeName
        $view = ($p.Types | Format-Table | Out-String -Width 300) + ($p | Format-Table | Out-String -Width 300)
        $view | Should -Not -Match "[`e`a`u{9b}]"
        $view | Should -Not -Match 'FAKE LINE[^\n]*\r?\n[^\n]*FAKE'   # no forged line
        $file = Join-Path ([IO.Path]::GetTempPath()) "memoryops-hostile-$PID.pb.gz"
        try {
            $p | Export-AllocationProfile -Path $file -Force
            $top = (& go tool pprof -top $file 2>&1) -join "`n"
            $top | Should -Match 'Evil'
            $top | Should -Not -Match "[`e`a`u{9b}]"
            @($top -split "`n" | Where-Object { $_ -match '^FAKE LINE' }).Count | Should -Be 0
        } finally { Remove-Item $file -Force -ErrorAction SilentlyContinue }
    }
}

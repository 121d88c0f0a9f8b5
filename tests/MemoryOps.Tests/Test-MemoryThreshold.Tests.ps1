BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force
    $script:repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path

    function Invoke-ChildPwsh {
        <# Runs a script with pwsh -File in a new process, as a scheduler would; returns its exit code and output. #>
        param([string] $Script, [string[]] $Arguments)
        Push-Location $script:repoRoot
        try {
            $output = & dotnet pwsh -NoProfile -NonInteractive -File $Script @Arguments 2>&1
            [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($output | Out-String) }
        } finally { Pop-Location }
    }
}

Describe 'New-MemoryRule and Import-MemoryPolicy' {
    It 'makes the three kinds of rule, with limits in base units' {
        $counter = New-MemoryRule -Counter gc-heap-size -Statistic Max -Maximum 512MB -For 30 -Severity Critical
        $counter | Should -BeOfType ([MemoryOps.MemoryRule])
        $counter.Kind | Should -Be 'Counter'
        $counter.Maximum | Should -Be 536870912
        $counter.For | Should -Be ([timespan]::FromSeconds(30))
        $counter.Name | Should -Be 'gc-heap-size'
        (New-MemoryRule -TypeName '*OrderStat' -MaxBytesGrowth 10MB).Kind | Should -Be 'Type'
        (New-MemoryRule -Baseline nightly -Counter TotalBytes -MaxDeviationPercent 15 -MaxStandardDeviations 3 -Name drift).Kind | Should -Be 'Baseline'
    }

    It 'refuses a rule without a limit, with a specific error' {
        { New-MemoryRule -Counter gc-heap-size -ErrorAction Stop } | Should -Throw '*Maximum or Minimum must be given*'
        try { New-MemoryRule -TypeName X } catch { $_.FullyQualifiedErrorId | Should -BeLike 'InvalidRule,*'; $_.CategoryInfo.Category | Should -Be 'InvalidArgument' }
    }

    It 'reads a .psd1 policy without running it, and a JSON policy' {
        $psd1 = Join-Path $TestDrive 'policy.psd1'
        Set-Content $psd1 @'
@{
    Rules = @(
        @{ Name = 'heap'; Counter = 'gc-heap-size'; Statistic = 'Max'; Maximum = 512MB; For = 30 }
        @{ Name = 'orders'; TypeName = '*OrderStat'; MaxBytesGrowth = 10MB; Severity = 'Critical' }
    )
}
'@
        $rules = Import-MemoryPolicy $psd1
        $rules | Should -HaveCount 2
        $rules[0].Maximum | Should -Be 512MB
        $rules[1].Severity | Should -Be 'Critical'
        $json = Join-Path $TestDrive 'policy.json'
        Set-Content $json '{ "rules": [ { "name": "heap", "counter": "gc-heap-size", "maximum": "512MB", "for": "30s" } ] }'
        (Get-Item $json | Import-MemoryPolicy).Maximum | Should -Be 512MB
    }

    It 'names the file, the rule and the field of a malformed policy, and goes on with the next file' {
        $bad = Join-Path $TestDrive 'bad.psd1'
        Set-Content $bad "@{ Rules = @( @{ Name = 'ok'; Counter = 'x'; Maximum = 1 }, @{ Name = 'typo'; Counter = 'x'; Maximun = 1 } ) }"
        $code = Join-Path $TestDrive 'code.psd1'
        Set-Content $code "@{ Rules = @( @{ Counter = 'x'; Maximum = (Get-Date).Ticks } ) }"
        $good = Join-Path $TestDrive 'good.json'
        Set-Content $good '{ "rules": [ { "counter": "x", "maximum": 1 } ] }'
        $rules = Import-MemoryPolicy $bad, $code, $good -ErrorVariable err -ErrorAction SilentlyContinue
        $rules | Should -HaveCount 1
        $err | Should -HaveCount 2
        $err[0].Exception.Message | Should -BeLike "*$bad*rule 2 ('typo'), field 'Maximun'*"
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidData,*'
        $err[1].Exception.Message | Should -BeLike "*$code*not a constant value*"
    }
}

Describe 'Test-MemoryThreshold on a leak' {
    BeforeAll {
        $script:store = Join-Path $TestDrive 'store'
        $script:target = Start-TestTarget
        Send-TestTarget $target 'leak 50000' | Out-Null
        New-HeapSnapshot -ProcessId $target.ProcessId | Save-MemoryBaseline -Name orders -Store $store
        # The check a scheduler runs: exit code 0 when healthy, non-zero on a violation.
        $script:check = Join-Path $TestDrive 'check.ps1'
        Set-Content $check @'
param($ModulePath, $ProcessId, $Store)
# Unattended scripts stop at the first terminating error, so -Assert ends the script and pwsh exits with 1.
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$policy = New-MemoryRule -TypeName 'OrderService.OrderStat' -MaxBytesGrowth 5MB -Name orders-growth
New-HeapSnapshot -ProcessId $ProcessId |
    Compare-HeapSnapshot -ReferenceSnapshot (Get-MemoryBaseline -Name orders -Store $Store).Snapshot |
    Test-MemoryThreshold -Rule $policy -Assert | Out-Null
'check passed'
'@
    }
    AfterAll { $script:target | Stop-TestTarget }

    It 'passes the scheduled check with exit code 0 before the leak' {
        $run = Invoke-ChildPwsh $check @($env:MEMORYOPS_MODULE_PATH, "$($target.ProcessId)", $store)
        $run.Output | Should -BeLike '*check passed*'
        $run.ExitCode | Should -Be 0
    }

    It 'names OrderStat first by bytes growth, fails the type rule, and fails the scheduled check with a non-zero exit code' {
        Send-TestTarget $target 'leak 300000' | Out-Null
        $after = New-HeapSnapshot -ProcessId $target.ProcessId
        $reference = (Get-MemoryBaseline -Name orders -Store $store).Snapshot
        $deltas = Compare-HeapSnapshot -ReferenceSnapshot $reference -DifferenceSnapshot $after
        $deltas[0].TypeName | Should -Be 'OrderService.OrderStat'
        $deltas[0].BytesDelta | Should -Be (300000 * 80)

        $rule = New-MemoryRule -TypeName '*.OrderStat' -MaxBytesGrowth 5MB -Name orders-growth
        $results = $deltas | Test-MemoryThreshold -Rule $rule
        $results | Should -HaveCount 1
        $results.Passed | Should -BeFalse
        $results.Observed | Should -Be (300000 * 80)
        $results.Limit | Should -Be 5MB
        $results.Subject | Should -Be 'OrderService.OrderStat'

        $run = Invoke-ChildPwsh $check @($env:MEMORYOPS_MODULE_PATH, "$($target.ProcessId)", $store)
        $run.ExitCode | Should -Not -Be 0
        $run.Output | Should -BeLike '*orders-growth*OrderService.OrderStat*BytesDelta*'
        $run.Output | Should -Not -BeLike '*check passed*'
    }

    It 'ends -Assert with a terminating error listing every violation; -Quiet returns one boolean' {
        $after = New-HeapSnapshot -ProcessId $target.ProcessId
        $rules = @(
            New-MemoryRule -Counter TotalBytes -Maximum 1MB -Name heap-cap
            New-MemoryRule -Baseline orders -Store $store -Counter TotalBytes -MaxDeviationPercent 15 -Name drift
            New-MemoryRule -Counter ObjectCount -Maximum 1e9 -Name objects
        )
        $err = $null
        try { $after | Test-MemoryThreshold -Rule $rules -Assert | Out-Null } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike 'ThresholdViolated,*'
        $err.CategoryInfo.Category | Should -Be 'LimitsExceeded'
        $err.Exception.Message | Should -BeLike '*2 memory rule violation*heap-cap*drift*'
        $err.Exception.Violations.Rule | Should -Be @('heap-cap', 'drift')
        $after | Test-MemoryThreshold -Rule $rules -Quiet | Should -BeFalse
        $after | Test-MemoryThreshold -Rule $rules[2] -Quiet | Should -BeTrue
    }

    It 'reports input it cannot read, and a missing baseline before reading any input' {
        'text' | Test-MemoryThreshold -Rule (New-MemoryRule -Counter x -Maximum 1) -ErrorVariable err -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'UnsupportedInput,*'
        { 'text' | Test-MemoryThreshold -Rule (New-MemoryRule -Baseline nothing-here -Store $store -Counter x -MaxDeviationPercent 1) -ErrorAction Stop } |
            Should -Throw "*no baseline 'nothing-here'*"
    }
}

Describe 'Test-MemoryThreshold on a healthy service' {
    BeforeAll {
        $script:store = Join-Path $TestDrive 'healthy'
        $script:target = Start-TestTarget
        Send-TestTarget $target 'leak 50000' | Out-Null
        Send-TestTarget $target 'churn on' | Out-Null
        # Churn keeps its last 256 8-KB buffers alive: the steady state is reached once they are all there (~3 s).
        # A baseline is taken at the steady state, as an operator would after a warm-up.
        Start-Sleep -Seconds 5
        1..3 | ForEach-Object { New-HeapSnapshot -ProcessId $target.ProcessId | Save-MemoryBaseline -Name steady -Store $store }
        $script:reference = (Get-MemoryBaseline -Name steady -Store $store).Snapshot
        $script:policy = @(
            New-MemoryRule -Counter gc-heap-size -Statistic Max -Maximum 256MB -Name heap
            New-MemoryRule -Counter TotalBytes -Maximum 64MB -Name live-heap
            New-MemoryRule -TypeName 'OrderService.*' -MaxBytesGrowth 1MB -MaxCountGrowth 1000 -Name orders-growth
            New-MemoryRule -Baseline steady -Store $store -Counter TotalBytes, ObjectCount -MaxDeviationPercent 15 -Name drift
        )
    }
    AfterAll { $script:target | Stop-TestTarget }

    It 'passes every rule five times in a row: no false alarm (run <_>)' -ForEach (1..5) {
        $snapshot = New-HeapSnapshot -ProcessId $target.ProcessId
        $inputs = @(
            Get-GcCounter -ProcessId $target.ProcessId -Counter gc-heap-size -MaxSamples 2
            $snapshot
            Compare-HeapSnapshot -ReferenceSnapshot $reference -DifferenceSnapshot $snapshot -TypeName 'OrderService.*' -IncludeUnchanged
        )
        $results = $inputs | Test-MemoryThreshold -Rule $policy
        $results | Where-Object { -not $_.Passed } | ForEach-Object { $_.Message } | Should -BeNullOrEmpty
        ($results.Rule | Sort-Object -Unique) | Should -Be @('drift', 'heap', 'live-heap', 'orders-growth')
        $inputs | Test-MemoryThreshold -Rule $policy -Quiet | Should -BeTrue
    }
}

Describe 'Test-MemoryThreshold on a stream' {
    BeforeAll {
        $script:target = Start-TestTarget
    }
    AfterAll { $script:target | Stop-TestTarget }

    It 'fires a sustained rule only after the breach lasted -For, not on a short spike' {
        $rule = New-MemoryRule -Counter gc-heap-size -Maximum 40MB -For 4 -Name sustained
        $script:n = 0
        $timeline = [System.Collections.Generic.List[object]]::new()
        # The samples drive the target: a spike of about 1 s (samples 3-4), then from sample 8 a leak that stays.
        $results = Get-GcCounter -ProcessId $target.ProcessId -Counter gc-heap-size -Duration 25 |
            ForEach-Object {
                $script:n++
                $timeline.Add([pscustomobject]@{ N = $script:n; Time = $_.Timestamp; Value = $_.Value })
                if ($script:n -eq 2) { Send-TestTarget $target 'leak 400000' | Out-Null }
                if ($script:n -eq 4) { Send-TestTarget $target 'clear' | Out-Null; Send-TestTarget $target 'gc' | Out-Null }
                if ($script:n -eq 7) { Send-TestTarget $target 'leak 400000' | Out-Null }
                $_
            } |
            Test-MemoryThreshold -Rule $rule |
            Where-Object { -not $_.Passed } | Select-Object -First 1
        $high = $timeline | Where-Object Value -gt 40MB
        ($high | Where-Object N -le 5) | Should -Not -BeNullOrEmpty -Because 'the spike must really have breached the limit'
        $results | Should -HaveCount 1
        $breachStart = ($high | Where-Object N -ge 8 | Select-Object -First 1).Time
        ($results.Timestamp - $breachStart).TotalSeconds | Should -BeGreaterOrEqual 4
        ($results.Timestamp - $breachStart).TotalSeconds | Should -BeLessThan 6
        $results.Message | Should -BeLike '*sustained for*'
    }

    It 'captures exactly one dump the moment a sustained breach happens, then ends every session' {
        Send-TestTarget $target 'clear' | Out-Null
        Send-TestTarget $target 'leak 400000' | Out-Null
        $dumps = Join-Path $TestDrive 'dumps'
        New-Item -ItemType Directory $dumps | Out-Null
        # In a thread job so a regression that never stops the stream fails the test instead of hanging the suite.
        $job = Start-ThreadJob -ArgumentList $env:MEMORYOPS_MODULE_PATH, $target.ProcessId, $dumps -ScriptBlock {
            param($ModulePath, $ProcessId, $Dumps)
            Import-Module $ModulePath
            Get-GcCounter -ProcessId $ProcessId -Counter gc-heap-size -Continuous |
                Test-MemoryThreshold -Rule (New-MemoryRule -Counter gc-heap-size -Maximum 40MB -For 2) |
                Where-Object { -not $_.Passed } | Select-Object -First 1 |
                New-MemoryDump -Path $Dumps
        }
        $finished = $job | Wait-Job -Timeout 90
        $finished | Should -Not -BeNullOrEmpty -Because 'Select-Object -First 1 must end the continuous session'
        $dump = $job | Receive-Job
        $job | Remove-Job -Force
        $dump | Should -HaveCount 1
        $dump.ProcessId | Should -Be $target.ProcessId
        Get-ChildItem $dumps -Filter *.dmp | Should -HaveCount 1
        Wait-TestTargetSessionsClosed $target | Should -Be 'OK sessions enabled='
    }
}

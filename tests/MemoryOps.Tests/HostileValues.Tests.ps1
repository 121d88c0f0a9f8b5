<#
    Issue 11, streams and values: a target frozen mid-stream, names with escape sequences and line breaks,
    values out of range, and a check that observed nothing. Real TestTarget processes, a real kill -STOP/-CONT,
    real files; docs/reliability.md's "Hostile input" table lists each case.
#>
BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force
    # Only our own text is judged: no colour sequences of PowerShell's in what Out-String returns.
    $PSStyle.OutputRendering = 'PlainText'
    # Every character Display.Escape rewrites, except LF (which separates the lines of a table).
    $script:ControlPattern = '[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]'

    function ConvertTo-Base64([string] $Text) { [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($Text)) }

    function Start-Collector {
        <# Runs a script in its own runspace with the module, streaming its output into a collection the test can watch. #>
        param([Parameter(Mandatory)] [string] $Script, [object[]] $Arguments = @())
        $state = [initialsessionstate]::CreateDefault2()
        $state.ImportPSModule($env:MEMORYOPS_MODULE_PATH)
        $ps = [powershell]::Create($state)
        $null = $ps.AddScript($Script)
        foreach ($a in $Arguments) { $null = $ps.AddArgument($a) }
        $inputData = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $inputData.Complete()
        $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
        [pscustomobject]@{ PowerShell = $ps; Async = $ps.BeginInvoke($inputData, $output); Output = $output }
    }

    function Get-Items($Collection) {
        <# What a runspace's stream holds so far. Enumerating an open PSDataCollection blocks until it is closed; indexing does not. #>
        for ($i = 0; $i -lt $Collection.Count; $i++) { $Collection[$i] }
    }

    function Stop-Collector($Collector) {
        if ($null -eq $Collector) { return }
        $Collector.PowerShell.Stop()
        $Collector.PowerShell.Dispose()
    }

    function Wait-Until {
        <# Polls until the condition holds; fails the test (with what it waited for) after a bound. #>
        param([Parameter(Mandatory)] [scriptblock] $Condition, [Parameter(Mandatory)] [double] $Seconds, [Parameter(Mandatory)] [string] $What)
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Waited $Seconds s for $What in vain." }
            Start-Sleep -Milliseconds 100
        }
    }

    function Assert-Shown {
        <# Text as a user sees it: no control character, and no line forged by a name. #>
        param([Parameter(Mandatory)] [AllowEmptyString()] [string] $Text, [string[]] $Contains = @())
        $Text | Should -Not -Match $ControlPattern
        ($Text -split "`n") -match '^\s*(FAKE|PASS)' | Should -BeNullOrEmpty -Because 'a name must not start a line of its own'
        foreach ($c in $Contains) { $Text.Contains($c) | Should -BeTrue -Because "the text should hold '$c'" }
    }

    function Get-GapSeconds([string] $Message, [string] $Pattern) {
        if ($Message -notmatch $Pattern) { throw "'$Message' does not match '$Pattern'." }
        [double]$Matches[1]
    }
}

Describe 'A target frozen in the middle of a stream (kill -STOP)' {
    BeforeEach { $script:target = Start-TestTarget }
    AfterEach {
        if (-not $target.Process.HasExited) { kill -CONT $target.ProcessId }
        $target | Stop-TestTarget
    }

    It 'Get-GcCounter -Continuous warns when the samples stop, keeps waiting, and names the gap when they come back' {
        $c = Start-Collector 'param($id) Get-GcCounter -ProcessId $id -Counter gc-heap-size -Continuous' @($target.ProcessId)
        try {
            Wait-Until { $c.Output.Count -ge 3 } 60 'three samples'
            Get-Items $c.PowerShell.Streams.Warning | Should -BeNullOrEmpty -Because 'a stream on time has no gap'
            kill -STOP $target.ProcessId
            $frozen = [Diagnostics.Stopwatch]::StartNew()
            Wait-Until { $c.PowerShell.Streams.Warning.Count -ge 1 } 30 'the warning that the samples stopped'
            $frozen.Elapsed.TotalSeconds | Should -BeLessThan 15
            Write-Host ("    warned {0:N1} s after the freeze" -f $frozen.Elapsed.TotalSeconds)
            $c.PowerShell.Streams.Warning[0].Message |
                Should -BeLike "No sample from process $($target.ProcessId) for * s (expected every 1 s): is it stopped or frozen? Still waiting for it."
            $during = $c.Output.Count
            while ($frozen.Elapsed.TotalSeconds -lt 12) { Start-Sleep -Milliseconds 200 }
            $c.Output.Count | Should -Be $during -Because 'a frozen target sends nothing'
            kill -CONT $target.ProcessId
            Wait-Until { $c.PowerShell.Streams.Warning.Count -ge 2 } 30 'the warning that the samples came back'
            $back = $c.PowerShell.Streams.Warning[1].Message
            $gap = Get-GapSeconds $back "^Process $($target.ProcessId) sent samples again after ([\d.]+) s without any \(expected every 1 s\)"
            Write-Host "    gap reported: $gap s (frozen for 12 s)"
            $gap | Should -BeGreaterOrEqual 12
            $gap | Should -BeLessThan 30
            Wait-Until { $c.Output.Count -ge $during + 3 } 30 'samples after the freeze'
            $c.Async.IsCompleted | Should -BeFalse -Because '-Continuous goes on after a gap'
            Get-Items $c.PowerShell.Streams.Error | Should -BeNullOrEmpty
            Get-Items $c.PowerShell.Streams.Warning | Should -HaveCount 2 -Because 'one warning when the gap begins, one when it ends'
        } finally { Stop-Collector $c }
    }

    It 'Get-GcCounter -MaxSamples ends with a Timeout error naming the PID once a sample is the start timeout overdue, keeping the samples it had' {
        $c = Start-Collector 'param($id) Get-GcCounter -ProcessId $id -Counter gc-heap-size -MaxSamples 100' @($target.ProcessId)
        try {
            Wait-Until { $c.Output.Count -ge 2 } 60 'two samples'
            kill -STOP $target.ProcessId
            $frozen = [Diagnostics.Stopwatch]::StartNew()
            Wait-Until { $c.Async.IsCompleted } 60 'the command to give up'
            Write-Host ("    gave up {0:N1} s after the freeze" -f $frozen.Elapsed.TotalSeconds)
            # The timeout is the interval plus the 15 s a target has to answer; ending the session of a frozen target takes up to 5 s more.
            $frozen.Elapsed.TotalSeconds | Should -BeGreaterThan 14
            $frozen.Elapsed.TotalSeconds | Should -BeLessThan 40
            $err = @(Get-Items $c.PowerShell.Streams.Error)
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'Timeout,*'
            $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
            $err[0].TargetObject | Should -Be $target.ProcessId
            $err[0].Exception.Message | Should -BeLike "No sample from process $($target.ProcessId) for 1? s (expected every 1 s): is it stopped or frozen?*"
            $c.Output.Count | Should -BeGreaterOrEqual 2
            $c.Output.Count | Should -BeLessThan 100
        } finally { Stop-Collector $c }
    }

    It 'Get-GcCounter -Duration says that the end of its window had no sample' {
        $c = Start-Collector 'param($id) Get-GcCounter -ProcessId $id -Counter gc-heap-size -Duration 16' @($target.ProcessId)
        try {
            Wait-Until { $c.Output.Count -ge 2 } 30 'two samples'
            kill -STOP $target.ProcessId
            Wait-Until { $c.Async.IsCompleted } 60 'the window to end'
            Get-Items $c.PowerShell.Streams.Error | Should -BeNullOrEmpty
            $warnings = @(Get-Items $c.PowerShell.Streams.Warning | ForEach-Object Message)
            $warnings[0] | Should -BeLike "No sample from process $($target.ProcessId) for * s (expected every 1 s): is it stopped or frozen? Still waiting for it."
            $gap = Get-GapSeconds $warnings[-1] "^No sample from process $($target.ProcessId) in the last ([\d.]+) s of the window \(expected every 1 s\)"
            $gap | Should -BeGreaterOrEqual 6
            $gap | Should -BeLessThan 16
        } finally { Stop-Collector $c }
    }

    It 'Get-GcEvent -Summary flags a window in which the target was frozen: a warning and GapDuration' {
        Send-TestTarget $target 'churn on' | Out-Null
        $c = Start-Collector 'param($id) Get-GcEvent -ProcessId $id -Duration 20 -Summary' @($target.ProcessId)
        try {
            # The session's heartbeat is the runtime's System.Runtime EventSource: once it is enabled, the window is being watched.
            Wait-Until { (Send-TestTarget $target 'sessions') -like '*System.Runtime*' } 30 'the GC event session in the target'
            Start-Sleep -Seconds 2
            kill -STOP $target.ProcessId
            Start-Sleep -Seconds 8
            kill -CONT $target.ProcessId
            Wait-Until { $c.Async.IsCompleted } 60 'the window to end'
            $summary = @(Get-Items $c.Output)
            $summary | Should -HaveCount 1
            Write-Host ("    GapDuration {0:N1} s, GapCount {1} (frozen for 8 s)" -f $summary[0].GapDuration, $summary[0].GapCount)
            $summary[0].GapCount | Should -Be 1
            $summary[0].GapDuration | Should -BeGreaterOrEqual 7.5
            $summary[0].GapDuration | Should -BeLessThan 14
            $summary[0].Count | Should -BeGreaterThan 0 -Because 'the churn made collections before and after the freeze'
            $warnings = @(Get-Items $c.PowerShell.Streams.Warning | ForEach-Object Message)
            $warnings | Should -HaveCount 3
            $warnings[0] | Should -BeLike "No heartbeat from process $($target.ProcessId) for * s (expected every 1 s): is it stopped or frozen?*"
            $warnings[1] | Should -BeLike "Process $($target.ProcessId) sent heartbeats again after * s without any*"
            $warnings[2] | Should -BeLike "The summary of process $($target.ProcessId) covers * s of * s in which the target sent nothing (stopped or frozen)*GapDuration*"
            ($summary[0] | Format-List | Out-String) | Should -BeLike '*GapDuration*in 1 gap(s): the target sent nothing (stopped or frozen?)*'
            # A rule can hold a check to an unbroken window.
            $summary[0] | Test-MemoryThreshold -Rule (New-MemoryRule -Counter GapDuration -Maximum 0 -Name watched) -Quiet -WarningAction SilentlyContinue | Should -BeFalse
        } finally {
            Stop-Collector $c
            if (-not $target.Process.HasExited) { kill -CONT $target.ProcessId; Send-TestTarget $target 'churn off' | Out-Null }
        }
    }

    It 'Get-GcEvent -Summary over a window the target ran through has no gap and no warning' {
        $summary = Get-GcEvent -ProcessId $target.ProcessId -Duration 6 -Summary -WarningVariable warnings
        $summary.GapCount | Should -Be 0
        $summary.GapDuration | Should -Be 0
        $warnings | Should -BeNullOrEmpty
        $summary | Test-MemoryThreshold -Rule (New-MemoryRule -Counter GapDuration -Maximum 0 -Name watched) -Quiet | Should -BeTrue
    }
}

Describe 'Names with escape sequences and line breaks' {
    BeforeAll {
        # A command line, a process name (its /proc comm, set by the process itself), a run-time type and a Meter
        # instrument, each named by the target the way a hostile local user's process may name them.
        $script:hostileArgument = "--title=`e]0;pwned`a`r`nFAKE LINE`e[2J"
        $script:target = Start-TestTarget -ArgumentList $hostileArgument
        $script:comm = "T`e[41mX`r`nFAKE"
        Send-TestTarget $target "comm $(ConvertTo-Base64 $comm)" | Out-Null
        $script:reference = New-HeapSnapshot -ProcessId $target.ProcessId
        $script:typeName = "Evil`e]0;pwned`a`r`nFAKE LINE`u{9b}31m.Order"
        Send-TestTarget $target "hostile $(ConvertTo-Base64 $typeName) 1000" | Out-Null
        $script:snapshot = New-HeapSnapshot -ProcessId $target.ProcessId
        $script:hostileType = $snapshot.Types | Where-Object TypeName -like 'Evil*'
    }
    AfterAll { $target | Stop-TestTarget }

    It 'keeps the raw names on the objects, so scripts still match them' {
        $process = Get-DotNetProcess -ProcessId $target.ProcessId
        $process.ProcessName | Should -BeExactly $comm
        $process.CommandLine.Contains($hostileArgument) | Should -BeTrue
        $hostileType | Should -HaveCount 1
        $hostileType.Count | Should -Be 1000
        foreach ($c in "`e", "`a", "`r`n", "`u{9b}") { $hostileType.TypeName.Contains($c) | Should -BeTrue }
    }

    It 'shows them escaped in the views of processes, snapshots, types, comparisons and counters' {
        Assert-Shown (Get-DotNetProcess -ProcessId $target.ProcessId | Format-Table | Out-String -Width 400) -Contains '--title=\e]0;pwned\x07\r\nFAKE LINE\e[2J'
        Assert-Shown ($snapshot.Types | Select-Object -First 500 | Format-Table | Out-String -Width 400) -Contains 'Evil\e]0;pwned\x07\r\nFAKE LINE'
        Assert-Shown ($hostileType | Format-Table | Out-String -Width 400) -Contains '\u009b31m'
        $deltas = Compare-HeapSnapshot -ReferenceSnapshot $reference -DifferenceSnapshot $snapshot -TypeName 'Evil*'
        $deltas.TypeName | Should -BeExactly $hostileType.TypeName
        Assert-Shown ($deltas | Format-Table | Out-String -Width 400) -Contains 'Evil\e]0;pwned\x07\r\nFAKE LINE'
        Assert-Shown (Compare-HeapSnapshot -ReferenceSnapshot $reference -DifferenceSnapshot $snapshot -Summary | Format-List | Out-String -Width 400)
        $samples = Get-GcCounter -ProcessId $target.ProcessId -Provider OrderService -Counter 'Evil*' -Source Meter
        $samples | Should -Not -BeNullOrEmpty
        $samples[0].Name | Should -BeExactly $typeName
        $samples[0].Tags['tag'] | Should -BeExactly $typeName
        Assert-Shown ($samples | Format-Table | Out-String -Width 400) -Contains 'tag=Evil\e]0;pwned\x07\r\nFAKE LINE'
    }

    It 'makes threshold messages, warnings and the -Assert error that no name can forge a line in' {
        $warn = New-MemoryRule -TypeName 'Evil*' -MaxCount 10 -Severity Warning -Name evil-types
        $result = $snapshot | Test-MemoryThreshold -Rule $warn -WarningVariable warnings
        $result.Subject | Should -BeExactly $hostileType.TypeName
        $result.Passed | Should -BeFalse
        Assert-Shown $result.Message -Contains 'Evil\e]0;pwned\x07\r\nFAKE LINE\u009b31m.Order: Count 1,000 > 10'
        $warnings | Should -HaveCount 1
        Assert-Shown $warnings[0].Message
        Assert-Shown ($result | Format-Table | Out-String -Width 400)

        $err = $null
        try { $snapshot | Test-MemoryThreshold -Rule (New-MemoryRule -TypeName 'Evil*' -MaxCount 10 -Name evil-types) -Assert } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'ThresholdViolated,*'
        foreach ($text in $err.Exception.Message, $err.ErrorDetails.Message, ($err | Out-String -Width 400)) {
            $text | Should -Not -Match $ControlPattern
        }
        # Two lines, the count and the one violation: the name's CR/LF did not make a third.
        ($err.ErrorDetails.Message -split "`n") | Should -HaveCount 2
    }

    It 'keeps a hostile type name intact through Export- and Import-HeapSnapshot' {
        $file = Join-Path $TestDrive 'hostile.json.gz'
        $snapshot | Export-HeapSnapshot -Path $file
        $back = Import-HeapSnapshot -Path $file
        ($back.Types | Where-Object TypeName -like 'Evil*').TypeName | Should -BeExactly $hostileType.TypeName
    }

    It 'escapes the completion list of -ProcessId, which shows the command line' {
        $line = "Get-GcCounter -ProcessId $($target.ProcessId)"
        $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $match = $completion.CompletionMatches | Where-Object CompletionText -eq "$($target.ProcessId)"
        $match | Should -HaveCount 1
        Assert-Shown $match.ToolTip -Contains 'FAKE LINE'
        Assert-Shown $match.ListItemText
    }

    It 'escapes a non-.NET process''s hostile name in the error that names it' {
        $psi = [Diagnostics.ProcessStartInfo]::new('python3')
        $psi.ArgumentList.Add('-c')
        $psi.ArgumentList.Add("import time; open('/proc/self/comm', 'w').write('py\x1b[2J\r\nFAKE'); print('renamed', flush=True); time.sleep(120)")
        $psi.RedirectStandardOutput = $true
        $psi.UseShellExecute = $false
        $python = [Diagnostics.Process]::Start($psi)
        try {
            $python.StandardOutput.ReadLine() | Should -Be 'renamed'
            Get-GcCounter -ProcessId $python.Id -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'NotDotNetProcess,*'
            Assert-Shown $err[0].Exception.Message -Contains "Process $($python.Id) (py\e[2J\r\nFAKE)"
            Assert-Shown ($err[0] | Out-String -Width 400)
        } finally { $python.Kill(); $python.Dispose() }
    }

    It 'escapes type names from a planted snapshot file, and a hostile file name in the error about it' {
        $file = Join-Path $TestDrive 'planted.json'
        Set-Content $file -Value (@{
                format = 'MemoryOps.HeapSnapshot'; version = 1; source = 'Process'; processId = 1; processName = "svc`r`nFAKE"
                timestamp = '2026-11-01T00:00:00Z'; runtimeVersion = '10.0.0'; liveOnly = $true; totalBytes = 100; objectCount = 2
                types = @(@{ typeName = "Red`e[31mText`u{202e}gnp"; count = 2; totalBytes = 100 })
            } | ConvertTo-Json -Depth 4)
        $planted = Import-HeapSnapshot -Path $file
        $planted.Types[0].TypeName | Should -BeExactly "Red`e[31mText`u{202e}gnp"
        Assert-Shown ($planted | Format-Table | Out-String -Width 400) -Contains 'svc\r\nFAKE'
        Assert-Shown ($planted.Types | Format-Table | Out-String -Width 400) -Contains 'Red\e[31mText\u202egnp'

        $badName = Join-Path $TestDrive "bad`e[31m`r`nFAKE.json"
        Set-Content -LiteralPath $badName -Value '{ "format": "MemoryOps.HeapSnapshot", '
        try {
            Import-HeapSnapshot -Path $badName -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidData,*'
            Assert-Shown $err[0].Exception.Message -Contains 'bad\e[31m\r\nFAKE.json'
            Assert-Shown ($err[0] | Out-String -Width 400)
        } finally {
            # Pester's own clean-up of TestDrive reads names as wildcards, which '[' breaks.
            Remove-Item -LiteralPath $badName
        }
    }

    It 'refuses a rule name with a control character, from New-MemoryRule and from a policy file' {
        $err = $null
        try { New-MemoryRule -Counter gc-heap-size -Maximum 1GB -Name "heap`e[2J`r`nPASS" } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidRule,*'
        Assert-Shown $err.Exception.Message -Contains "Rule 'heap\e[2J\r\nPASS': Name must not contain control characters"
        $file = Join-Path $TestDrive 'named.json'
        Set-Content $file '{ "rules": [ { "name": "heap\u001b[2J\r\nPASS", "counter": "gc-heap-size", "maximum": "1GB" } ] }'
        Import-MemoryPolicy -Path $file -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidData,*'
        Assert-Shown $err[0].Exception.Message -Contains "rule 1 ('heap\e[2J\r\nPASS'), field 'Name': must not contain control characters"
    }
}

Describe 'Values out of range' {
    BeforeAll {
        $script:target = Start-TestTarget
        $script:store = Join-Path $TestDrive 'store'
    }
    AfterAll { $target | Stop-TestTarget }

    It 'refuses <Command> -<Parameter> <Shown> when binding, naming the parameter and the range' -ForEach @(
        @{ Command = 'Get-GcCounter'; Parameter = 'Duration'; Value = [timespan]::MaxValue; Shown = '[timespan]::MaxValue'; Says = 'out of range: give from 0 s to 30 days. For longer, use -Continuous.' }
        @{ Command = 'Get-GcCounter'; Parameter = 'Duration'; Value = -1; Shown = '-1'; Says = '-1 s is out of range: give from 0 s to 30 days.' }
        @{ Command = 'Get-GcCounter'; Parameter = 'Interval'; Value = [timespan]::MaxValue; Shown = '[timespan]::MaxValue'; Says = 'out of range: give from 0.1 s to 1 h.' }
        @{ Command = 'Get-GcCounter'; Parameter = 'Interval'; Value = 0; Shown = '0'; Says = '0 s is out of range: give from 0.1 s to 1 h.' }
        @{ Command = 'Get-GcCounter'; Parameter = 'Duration'; Value = 1e300; Shown = '1e300'; Says = '1E+300 seconds is not a time span: give a finite number of seconds.' }
        @{ Command = 'Get-GcEvent'; Parameter = 'Duration'; Value = [timespan]::MaxValue; Shown = '[timespan]::MaxValue'; Says = 'out of range: give from 0 s to 30 days. For longer, use -Continuous.' }
        @{ Command = 'New-HeapSnapshot'; Parameter = 'Timeout'; Value = [timespan]::MaxValue; Shown = '[timespan]::MaxValue'; Says = 'out of range: give from 1 s to 1 day.' }
        @{ Command = 'Get-HeapRetention'; Parameter = 'Timeout'; Value = 0.5; Shown = '0.5'; Says = '0.5 s is out of range: give from 1 s to 1 day. The walk forces a full GC in the target, which a shorter wait would waste.' }
        @{ Command = 'New-MemoryRule'; Parameter = 'For'; Value = [timespan]::MaxValue; Shown = '[timespan]::MaxValue'; Says = 'out of range: give from 0 s to 30 days.' }
    ) {
        $arguments = @{ $Parameter = $Value }
        if ($Command -eq 'New-MemoryRule') { $arguments.Counter = 'gc-heap-size'; $arguments.Maximum = 1 } else { $arguments.ProcessId = $target.ProcessId }
        $err = $null
        try { & $Command @arguments -ErrorAction Stop } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike "ParameterArgument*Error,*$($Command -replace '-', '')Command"
        $err.Exception.Message | Should -BeLike "*'$Parameter'*$Says*"
    }

    It 'refuses a snapshot file that lists a type twice, naming the type' {
        $file = Join-Path $TestDrive 'real.json'
        New-HeapSnapshot -ProcessId $target.ProcessId | Export-HeapSnapshot -Path $file
        $json = Get-Content $file -Raw | ConvertFrom-Json
        $twice = $json.types | Where-Object { -not $_.isFree } | Select-Object -First 1
        $json.types = @($json.types) + $twice
        $forged = Join-Path $TestDrive 'twice.json'
        $json | ConvertTo-Json -Depth 5 | Set-Content $forged
        Import-HeapSnapshot -Path $forged -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidData,*'
        $err[0].Exception.Message | Should -BeLike "*type rows * and $(@($json.types).Count - 1) are both '$($twice.typeName)'*"
    }

    It 'refuses policy values a hand or a generator got wrong, each with its own error, and reads the good file beside them' {
        $cases = [ordered]@{
            'quoted.json'  = @('{ "rules": [ { "name": "a", "counter": "gc-heap-size", "maximum": "5" } ] }', "field 'Maximum': '5' is text, not a number")
            'nested.json'  = @('{ "rules": [ { "name": "a", "counter": [ [ "gc-heap-size" ] ], "maximum": 5 } ] }', "field 'Counter': item 1 is a list, not text")
            'toplist.json' = @('[ { "name": "a", "counter": "gc-heap-size", "maximum": 5 } ]', 'is a list at the top level')
            'control.json' = @('{ "rules": [ { "name": "a", "counter": "gc-heap-size\u0007", "maximum": 5 } ] }', "field 'Counter': must not contain control characters")
            'huge.json'    = @('{ "rules": [ { "name": "a", "counter": "gc-heap-size", "maximum": 1e400 } ] }', "field 'Maximum': '*' is not a finite number")
        }
        $paths = foreach ($name in $cases.Keys) {
            $path = Join-Path $TestDrive $name
            Set-Content $path $cases[$name][0]
            $path
        }
        $good = Join-Path $TestDrive 'good.json'
        Set-Content $good '{ "rules": [ { "name": "heap", "counter": "gc-heap-size", "maximum": "512MB" } ] }'
        $rules = Import-MemoryPolicy -Path (@($paths) + $good) -ErrorVariable err -ErrorAction SilentlyContinue
        $rules.Name | Should -Be 'heap'
        $err | Should -HaveCount $cases.Count
        $i = 0
        foreach ($name in $cases.Keys) {
            $err[$i].FullyQualifiedErrorId | Should -BeLike 'InvalidData,*'
            $err[$i].Exception.Message | Should -BeLike "The policy file '*$name'*$($cases[$name][1])*"
            $i++
        }
    }

    It 'refuses a baseline value no memory figure can have, on read (file untouched) and on save (nothing written)' {
        1..2 | ForEach-Object { New-HeapSnapshot -ProcessId $target.ProcessId | Save-MemoryBaseline -Name orders -Store $store }
        $file = Join-Path $store 'orders.baseline.json.gz'
        # Plant 1e308 in the second entry, as a user with write access to the store could.
        $gz = [IO.Compression.GZipStream]::new([IO.File]::OpenRead($file), [IO.Compression.CompressionMode]::Decompress)
        $text = [IO.StreamReader]::new($gz).ReadToEnd()
        $gz.Dispose()
        $doc = $text | ConvertFrom-Json
        $doc.entries[1].metrics.TotalBytes = 1e308
        $out = [IO.Compression.GZipStream]::new([IO.File]::Create($file), [IO.Compression.CompressionMode]::Compress)
        $bytes = [Text.Encoding]::UTF8.GetBytes(($doc | ConvertTo-Json -Depth 8))
        $out.Write($bytes, 0, $bytes.Length)
        $out.Dispose()
        $planted = [IO.File]::ReadAllBytes($file)

        Get-MemoryBaseline -Name orders -Store $store -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidData,*'
        $err[0].Exception.Message | Should -BeLike "*in entry 1 (from *), metric 'TotalBytes' = 1E+308 is larger than 10^18*left as it is*"
        { New-HeapSnapshot -ProcessId $target.ProcessId | Test-MemoryThreshold -Rule (New-MemoryRule -Baseline orders -Store $store -Counter TotalBytes -MaxDeviationPercent 10) } |
            Should -Throw "*metric 'TotalBytes' = 1E+308*"
        { New-HeapSnapshot -ProcessId $target.ProcessId | Save-MemoryBaseline -Name orders -Store $store -ErrorAction Stop } | Should -Throw "*1E+308*"
        [IO.File]::ReadAllBytes($file) | Should -Be $planted

        # A snapshot object with a negative size (forged, or deserialized from a tampered file) is not saved.
        $forged = New-HeapSnapshot -ProcessId $target.ProcessId
        $forged.TotalBytes = -4096
        $err = $null
        try { $forged | Save-MemoryBaseline -Name forged -Store $store } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidInput,*'
        $err.Exception.Message | Should -BeLike "Nothing was saved to baseline 'forged': *metric 'TotalBytes' = -4096 is negative, which a size in bytes cannot be*"
        Join-Path $store 'forged.baseline.json.gz' | Should -Not -Exist
    }
}

Describe 'Test-MemoryThreshold with nothing to check' {
    BeforeAll {
        $script:rule = New-MemoryRule -Counter gc-heap-size -Maximum 1GB -Name heap
        $script:target = Start-TestTarget
    }
    AfterAll { $target | Stop-TestTarget }

    It '-Assert ends with a NoObservations error when -Name matched nothing upstream' {
        $err = $null
        try { Get-GcCounter -Name 'no-such-service-*' -Counter gc-heap-size | Test-MemoryThreshold -Rule $rule -Assert } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike 'NoObservations,*'
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err.Exception.Message | Should -BeLike 'Test-MemoryThreshold received nothing to check*The check fails. Add -AllowNoObservations if an empty input is a pass.'
    }

    It '-Quiet returns $false, with a warning that says why' {
        $answer = @(Get-GcCounter -Name 'no-such-service-*' | Test-MemoryThreshold -Rule $rule -Quiet -WarningVariable warnings -WarningAction SilentlyContinue)
        $answer | Should -HaveCount 1
        $answer[0] | Should -BeFalse
        $warnings[0].Message | Should -BeLike '*received nothing to check*'
    }

    It 'input that cannot be read counts as nothing observed' {
        { 'text' | Test-MemoryThreshold -Rule $rule -Assert -ErrorAction SilentlyContinue } | Should -Throw -ErrorId 'NoObservations,*'
    }

    It '-AllowNoObservations lets an empty input pass' {
        @(Get-GcCounter -Name 'no-such-service-*' | Test-MemoryThreshold -Rule $rule -Assert -AllowNoObservations) | Should -HaveCount 0
        Get-GcCounter -Name 'no-such-service-*' | Test-MemoryThreshold -Rule $rule -Quiet -AllowNoObservations | Should -BeTrue
    }

    It 'still passes a check that observed something' {
        Get-GcCounter -ProcessId $target.ProcessId -Counter gc-heap-size | Test-MemoryThreshold -Rule $rule -Quiet | Should -BeTrue
    }

    It 'fails a scheduled check run by pwsh -File with a non-zero exit code' {
        $check = Join-Path $TestDrive 'check.ps1'
        Set-Content $check @'
param($ModulePath)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
Get-GcCounter -Name 'no-such-service-*' -Counter gc-heap-size | Test-MemoryThreshold -Rule (New-MemoryRule -Counter gc-heap-size -Maximum 1GB) -Assert
'check passed'
'@
        Push-Location (Join-Path $PSScriptRoot '../..')   # dotnet pwsh resolves in the repository's tool manifest
        try { $output = & dotnet pwsh -NoProfile -NonInteractive -File $check $env:MEMORYOPS_MODULE_PATH 2>&1 | Out-String }
        finally { Pop-Location }
        $LASTEXITCODE | Should -Not -Be 0
        $output | Should -BeLike '*received nothing to check*'
        $output | Should -Not -BeLike '*check passed*'
    }
}

<#
    Diagnostic sockets planted by another local user (issue 11; docs/reliability.md, "Hostile input").
    Runs as root, creates a real other user, and has that user run real listening Unix sockets (HostileSocket.py)
    in the shared temp folder: ones that answer ProcessInfo with malformed headers and payloads, and ones planted
    under the PID of a root-owned TestTarget. Each listener logs every connection it accepts.
#>
BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force

    if ((id -u) -ne '0') { throw 'HostileSocket.Tests.ps1 needs root: it creates a user and plants sockets as that user.' }
    $script:user = 'memoryops-hostile'
    id $user 2>$null | Out-Null
    if ($LASTEXITCODE -ne 0) {
        useradd --system --no-create-home --shell /usr/sbin/nologin $user
        if ($LASTEXITCODE -ne 0) { throw "this test needs root to create the user $user" }
    }
    $script:uid = [uint32](id -u $user)
    # The script goes to python as an argument: the repository may sit where the other user cannot read.
    $script:listenerScript = Get-Content -Raw (Join-Path $PSScriptRoot 'HostileSocket.py')
    # Logs live in a folder the other user can write to and nobody else can replace.
    $script:logDir = Join-Path ([IO.Path]::GetTempPath()) "memoryops-hostile-$PID"
    New-Item -ItemType Directory $logDir -Force | Out-Null
    chown $user $logDir
    $script:listeners = [System.Collections.Generic.List[object]]::new()
    $script:target = Start-TestTarget   # root's own .NET process

    function Start-HostileListener {
        <# Runs HostileSocket.py as -AsUser; returns its PID, socket path and connection log. #>
        param([Parameter(Mandatory)] [string] $Mode, [string] $ForPid = 'self', [string] $Key = '1', [string] $AsUser = $script:user, [switch] $Newest)
        $log = Join-Path $script:logDir "$([guid]::NewGuid().ToString('N')).log"
        $psi = [System.Diagnostics.ProcessStartInfo]::new('runuser')
        foreach ($a in @('-u', $AsUser, '--', '/usr/bin/python3', '-c', $script:listenerScript, $Mode, $ForPid, $Key, $log)) { $psi.ArgumentList.Add($a) }
        if ($Newest) { $psi.ArgumentList.Add('future') }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true   # runuser's "Killed" when the test ends the listener
        $psi.UseShellExecute = $false
        $process = [System.Diagnostics.Process]::Start($psi)
        $errors = $process.StandardError.ReadToEndAsync()
        $read = $process.StandardOutput.ReadLineAsync()
        if (-not $read.Wait(15000) -or $read.Result -notmatch '^READY (\d+) (.+)$') {
            throw "HostileSocket.py ($Mode) did not start: '$($read.Result)' $(if ($errors.Wait(1000)) { $errors.Result })"
        }
        $listener = [pscustomobject]@{ Process = $process; ProcessId = [int]$Matches[1]; Path = $Matches[2]; Log = $log; Stopped = $false }
        $script:listeners.Add($listener)
        $listener
    }

    function Get-ConnectionCount {
        param([Parameter(Mandatory)] $Listener)
        if (-not (Test-Path $Listener.Log)) { return 0 }
        @(Get-Content $Listener.Log).Count
    }

    function Stop-HostileListener {
        param([Parameter(ValueFromPipeline)] $Listener)
        process {
            if ($Listener.Stopped) { return }
            $Listener.Stopped = $true
            # runuser waits for python; python is the process to end (by its own PID).
            kill -9 $Listener.ProcessId 2>$null
            if (-not $Listener.Process.WaitForExit(5000)) { $Listener.Process.Kill($true) }
            $Listener.Process.Dispose()
            Remove-Item -LiteralPath $Listener.Path, $Listener.Log -Force -ErrorAction SilentlyContinue
        }
    }
}

AfterAll {
    # Each step runs even when one before it fails.
    try { $script:listeners | Stop-HostileListener }
    finally {
        try { $script:target | Stop-TestTarget }
        finally {
            Remove-Item $script:logDir -Recurse -Force -ErrorAction SilentlyContinue
            userdel $script:user 2>$null
        }
    }
}

Describe 'A process of another user that answers ProcessInfo with <Mode>' -ForEach @(
    @{ Mode = 'empty'; Check = '*0 bytes of payload, fewer than the 24 of its fixed part*' }
    @{ Mode = 'huge-string'; Check = '*command line string claims 2147483647 UTF-16 units*' }
    @{ Mode = 'bad-magic'; Check = '*does not start with the magic*' }
    @{ Mode = 'short-size'; Check = '*declares a message of 12 bytes, less than the 20-byte header*' }
    @{ Mode = 'truncated'; Check = '*ended after 10 of the 980 payload bytes*' }
) {
    BeforeAll {
        # Its own socket under its own PID: every trust check passes (it is that user's own process), so only
        # the bounded parser stands between the answer and root's listing.
        $script:bad = Start-HostileListener -Mode $Mode
    }
    AfterAll { $script:bad | Stop-HostileListener }

    It 'is skipped with a warning naming the check, and every real process is still listed' {
        $all = Get-DotNetProcess -WarningVariable warnings -WarningAction SilentlyContinue -ErrorVariable errors -ErrorAction SilentlyContinue
        $all.ProcessId | Should -Contain $target.ProcessId
        $all.ProcessId | Should -Not -Contain $bad.ProcessId
        $errors | Should -BeNullOrEmpty -Because 'a listing reports a bad PID as a warning, not an ErrorRecord'
        $mine = @($warnings | Where-Object { "$_" -like "Skipping PID $($bad.ProcessId):*" })
        $mine | Should -HaveCount 1
        "$($mine[0])" | Should -BeLike '*malformed answer*'
        "$($mine[0])" | Should -BeLike $Check
        Get-ConnectionCount $bad | Should -BeGreaterThan 0 -Because 'the answer must really have been read and refused'
    }

    It 'does not break a -Name lookup' {
        (Get-DotNetProcess -Name TestTarget -WarningAction SilentlyContinue).ProcessId | Should -Contain $target.ProcessId
        # (Other TestTargets on the machine may answer too, or not: only ours is looked at.)
        $counter = Get-GcCounter -Name TestTarget -Counter gc-heap-size -Source EventCounters -WarningAction SilentlyContinue -ErrorAction SilentlyContinue |
            Where-Object ProcessId -eq $target.ProcessId
        $counter.Value | Should -BeGreaterThan 0
    }

    It 'is a specific InvalidData error when asked for by -ProcessId' {
        $result = Get-DotNetProcess -Id $bad.ProcessId, $target.ProcessId -ErrorVariable err -ErrorAction SilentlyContinue
        $result.ProcessId | Should -Be $target.ProcessId
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidData,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $err[0].TargetObject | Should -Be $bad.ProcessId
        $err[0].Exception.Message | Should -BeLike "*Process $($bad.ProcessId)*$($bad.Path)*"
        $err[0].Exception.Message | Should -BeLike $Check
    }
}

Describe 'A process that never finishes its answer' {
    It 'is given up after the read deadline (<Mode>), without holding up the listing' -ForEach @(
        @{ Mode = 'silent' }
        @{ Mode = 'drip' }   # one byte every half second of a 64 KB answer: each read is quick, the whole is not
    ) {
        $slow = Start-HostileListener -Mode $Mode
        try {
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $err = $null
            Get-DotNetProcess -Id $slow.ProcessId -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $clock.Stop()
            $err[0].FullyQualifiedErrorId | Should -BeLike 'Timeout,*'
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 10 -Because 'one deadline (3 s) bounds the whole answer'
            $all = Get-DotNetProcess -WarningAction SilentlyContinue
            $all.ProcessId | Should -Contain $target.ProcessId
            $all.ProcessId | Should -Not -Contain $slow.ProcessId
        } finally { $slow | Stop-HostileListener }
    }
}

Describe 'Many processes that never answer' {
    It 'cost the listing about one read deadline, not one each' {
        # On the thread pool, which adds a thread or two a second, 20 of them held a listing for 48 s.
        $silent = foreach ($i in 1..12) { Start-HostileListener -Mode silent }
        try {
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $all = Get-DotNetProcess -WarningAction SilentlyContinue
            $clock.Stop()
            Write-Host ("    listed in {0:N1} s" -f $clock.Elapsed.TotalSeconds)
            $all.ProcessId | Should -Contain $target.ProcessId
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 12 -Because '12 probes of 3 s each run side by side'
            foreach ($s in $silent) { Get-ConnectionCount $s | Should -Be 1 -Because 'each was really asked' }
        } finally { $silent | Stop-HostileListener }
    }
}

Describe 'A newer socket planted by another user under the PID of root''s process' {
    BeforeAll {
        Send-TestTarget $target 'leak 20000' | Out-Null
        # A well-formed fake runtime, an hour newer than the real socket: the one a by-name lookup picks.
        $script:planted = Start-HostileListener -Mode fake -ForPid $target.ProcessId -Key 99999999999 -Newest
        $script:real = Get-ChildItem ([IO.Path]::GetTempPath()) -Filter "dotnet-diagnostic-$($target.ProcessId)-*-socket" |
            Where-Object FullName -ne $planted.Path | Select-Object -ExpandProperty FullName
        $script:dumpDir = Join-Path $TestDrive 'dumps'
        New-Item -ItemType Directory $dumpDir | Out-Null
    }
    AfterAll { $script:planted | Stop-HostileListener }

    It 'is the socket a by-name lookup would take (the hazard is real)' {
        $byName = Get-ChildItem ([IO.Path]::GetTempPath()) -Filter "dotnet-diagnostic-$($target.ProcessId)-*-socket" | Sort-Object LastWriteTimeUtc -Descending
        $byName[0].FullName | Should -Be $planted.Path
        (stat -c '%u' $planted.Path) | Should -Be "$uid"
    }

    It 'is ignored with a warning naming the owner check; the real process is listed through its own socket' {
        $found = Get-DotNetProcess -WarningVariable warnings -WarningAction SilentlyContinue | Where-Object ProcessId -eq $target.ProcessId
        $found.Name | Should -Be 'TestTarget'
        $found.DiagnosticSocket | Should -Be $real
        $w = @($warnings | Where-Object { "$_" -like "*$($planted.Path)*" })
        $w | Should -HaveCount 1
        "$($w[0])" | Should -BeLike "*the owner check failed: it belongs to uid $uid ($user), but the process runs as uid 0 (root)*"

        $byId = Get-DotNetProcess -Id $target.ProcessId -WarningVariable idWarnings -WarningAction SilentlyContinue
        $byId.DiagnosticSocket | Should -Be $real
        "$idWarnings" | Should -BeLike '*owner check failed*'
        Get-ConnectionCount $planted | Should -Be 0
    }

    It 'gets no connection from a counter session; the samples are the real process''s' {
        $truth = [long]((Send-TestTarget $target 'gc') -replace '^OK gc heap=', '')
        $sample = Get-GcCounter -ProcessId $target.ProcessId -Counter gc-heap-size -Source EventCounters -WarningAction SilentlyContinue
        $sample.Value | Should -BeGreaterOrEqual ($truth * 0.95)
        $sample.Value | Should -BeLessOrEqual ($truth * 1.05 + 2MB)
        Get-ConnectionCount $planted | Should -Be 0
    }

    It 'gets no connection from a GC event session' {
        Send-TestTarget $target 'churn on' | Out-Null
        try {
            $records = Get-GcEvent -ProcessId $target.ProcessId -MaxEvents 2 -Duration 60 -WarningAction SilentlyContinue
        } finally { Send-TestTarget $target 'churn off' | Out-Null }
        $records | Should -HaveCount 2
        $counts = (Send-TestTarget $target 'gccount') -replace '^OK gccount ', ''
        $gen0 = [int](($counts -split ' ')[0] -replace 'gen0=', '')
        $records[-1].Number | Should -BeLessOrEqual $gen0 -Because 'the GC numbers are the target''s own'
        Get-ConnectionCount $planted | Should -Be 0
    }

    It 'gets no connection from a live heap walk; it counts the real leak' {
        $snapshot = New-HeapSnapshot -ProcessId $target.ProcessId -WarningAction SilentlyContinue
        ($snapshot.Types | Where-Object TypeName -eq 'OrderService.OrderStat').Count | Should -Be 20000
        Get-ConnectionCount $planted | Should -Be 0
    }

    It 'gets no connection from a dump; the dump is of the real process' {
        $dump = New-MemoryDump -ProcessId $target.ProcessId -Type Mini -Path $dumpDir -WarningAction SilentlyContinue
        $dump.ProcessId | Should -Be $target.ProcessId
        (Get-Item $dump.Path).Length | Should -BeGreaterThan 1MB
        Get-ConnectionCount $planted | Should -Be 0
    }
}

Describe 'Other planted sockets' {
    It 'a socket of root''s own user that another process holds fails the held check' {
        # Same owner as the target (root), so only the held check can tell it from the real one.
        $held = Start-HostileListener -Mode fake -ForPid $target.ProcessId -Key 99999999998 -AsUser root -Newest
        try {
            $found = Get-DotNetProcess -Id $target.ProcessId -WarningVariable warnings -WarningAction SilentlyContinue
            $found.Name | Should -Be 'TestTarget'
            "$warnings" | Should -BeLike "*$($held.Path)*the held check failed: the process does not hold it open*"
            Get-ConnectionCount $held | Should -Be 0
        } finally { $held | Stop-HostileListener }
    }

    It 'a symbolic link planted by another user fails the type check' {
        # The link points at the user's own listener, an hour newer: a lookup by name and time takes the link first.
        $elsewhere = Start-HostileListener -Mode fake -ForPid 999999999 -Newest   # above pid_max: no such process
        $link = Join-Path ([IO.Path]::GetTempPath()) "dotnet-diagnostic-$($target.ProcessId)-99999999997-socket"
        runuser -u $user -- ln -s $elsewhere.Path $link
        try {
            (Get-Item $link -Force).LinkTarget | Should -Be $elsewhere.Path
            $byName = Get-ChildItem ([IO.Path]::GetTempPath()) -Filter "dotnet-diagnostic-$($target.ProcessId)-*-socket" | Sort-Object LastWriteTimeUtc -Descending
            $byName[0].FullName | Should -Be $link
            $found = Get-DotNetProcess -Id $target.ProcessId -WarningVariable warnings -WarningAction SilentlyContinue
            $found.Name | Should -Be 'TestTarget'
            "$warnings" | Should -BeLike "*$link*the type check failed: it is a symbolic link, not a socket*"
            Get-ConnectionCount $elsewhere | Should -Be 0
        } finally {
            Remove-Item -LiteralPath $link -Force
            $elsewhere | Stop-HostileListener
        }
    }

    It 'a non-.NET process with only a planted socket is UntrustedSocket when asked for, a warning when listed' {
        $sleep = Start-NonDotNetProcess
        $fake = Start-HostileListener -Mode fake -ForPid $sleep.Id -Key 5
        try {
            Get-DotNetProcess -Id $sleep.Id -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'UntrustedSocket,*'
            $err[0].CategoryInfo.Category | Should -Be 'SecurityError'
            $err[0].TargetObject | Should -Be $sleep.Id
            $err[0].Exception.Message | Should -BeLike "*$($fake.Path)*the owner check failed*"

            $all = Get-DotNetProcess -WarningVariable warnings -WarningAction SilentlyContinue -ErrorVariable listErr -ErrorAction SilentlyContinue
            $all.ProcessId | Should -Not -Contain $sleep.Id
            $all.ProcessId | Should -Contain $target.ProcessId
            $listErr | Should -BeNullOrEmpty
            "$warnings" | Should -BeLike "*Skipping PID $($sleep.Id)*owner check failed*"
            Get-ConnectionCount $fake | Should -Be 0
        } finally {
            $fake | Stop-HostileListener
            $sleep.Kill(); $sleep.Dispose()
        }
    }
}

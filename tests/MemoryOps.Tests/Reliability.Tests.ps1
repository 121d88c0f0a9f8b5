<#
    Faults, Ctrl+C, load and a short soak (docs/reliability.md lists every case and its outcome).
    The soak runs MEMORYOPS_SOAK_SECONDS seconds (30 by default; the bench run sets 600).
#>
BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force

    function Invoke-AndStop {
        <# Runs a script in its own runspace, then stops it after a delay the way Ctrl+C does (StopProcessing). #>
        param([Parameter(Mandatory)] [string] $Script, [object[]] $Arguments = @(), [Parameter(Mandatory)] [double] $AfterSeconds)
        # One command in a runspace that has the module (not a batch of statements: a stopped batch would
        # still try to start its next statement on a closed runspace).
        $state = [initialsessionstate]::CreateDefault2()
        $state.ImportPSModule($env:MEMORYOPS_MODULE_PATH)
        $ps = [powershell]::Create($state)
        $null = $ps.AddScript($Script)
        foreach ($a in $Arguments) { $null = $ps.AddArgument($a) }
        $async = $ps.BeginInvoke()
        Start-Sleep -Seconds $AfterSeconds
        $wasRunning = -not $async.IsCompleted
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        $clock.Stop()
        $result = [pscustomobject]@{ WasRunning = $wasRunning; StopSeconds = $clock.Elapsed.TotalSeconds; State = $ps.InvocationStateInfo.State }
        Write-Host ("    stopped in {0:N2} s" -f $result.StopSeconds)
        $ps.Dispose()
        $result
    }
}

Describe 'When the target exits mid-operation' {
    BeforeEach {
        $script:target = Start-TestTarget
        Send-TestTarget $target 'leak 1500000' | Out-Null
        $script:folder = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory $folder | Out-Null
    }
    AfterEach { $script:target | Stop-TestTarget }

    It 'a live heap snapshot ends with TargetExited' {
        # The walk of 1.5 M orders takes about a second on a quiet machine: kill it early in the walk.
        $killer = Start-DelayedCommand 0.4 "kill -9 $($target.ProcessId)"
        $snapshot = New-HeapSnapshot -ProcessId $target.ProcessId -ErrorVariable err -ErrorAction SilentlyContinue
        $killer.WaitForExit()
        $snapshot | Should -BeNullOrEmpty
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TargetExited,*'
        $err[0].TargetObject | Should -Be $target.ProcessId
    }

    It 'a dump ends with a specific error and leaves no file behind' {
        $killer = Start-DelayedCommand 0.3 "kill -9 $($target.ProcessId)"
        $dump = New-MemoryDump -ProcessId $target.ProcessId -Path $folder -ErrorVariable err -ErrorAction SilentlyContinue
        $killer.WaitForExit()
        $dump | Should -BeNullOrEmpty
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeIn @('TargetExited,MemoryOps.Commands.NewMemoryDumpCommand', 'ProcessNotFound,MemoryOps.Commands.NewMemoryDumpCommand')
        Get-ChildItem $folder -Force | Should -BeNullOrEmpty
    }
}

Describe 'Ctrl+C at every long step' {
    BeforeAll {
        $script:target = Start-TestTarget
        Send-TestTarget $target 'leak 1500000' | Out-Null
        Send-TestTarget $target 'churn on' | Out-Null
        $script:dumpFolder = Join-Path $TestDrive 'dumps'
        New-Item -ItemType Directory $dumpFolder | Out-Null
        $script:bigDump = (New-MemoryDump -ProcessId $target.ProcessId -Path (Join-Path $TestDrive 'big.dmp')).Path
    }
    AfterAll { $script:target | Stop-TestTarget }

    It 'stops <Name> within seconds and ends its session in the target' -ForEach @(
        @{ Name = 'Get-GcCounter -Continuous'; Script = 'param($p) Get-GcCounter -ProcessId $p -Continuous'; After = 2.5 }
        @{ Name = 'Get-GcEvent -Continuous'; Script = 'param($p) Get-GcEvent -ProcessId $p -Continuous'; After = 2.5 }
        @{ Name = 'a live heap snapshot'; Script = 'param($p) New-HeapSnapshot -ProcessId $p'; After = 0.3 }
    ) {
        $r = Invoke-AndStop -Script $Script -Arguments $target.ProcessId -AfterSeconds $After
        $r.WasRunning | Should -BeTrue -Because 'the stop must land while the work runs'
        $r.StopSeconds | Should -BeLessThan 12
        $r.State | Should -Be 'Stopped'
        Wait-TestTargetSessionsClosed $target | Should -Be 'OK sessions enabled='
        Send-TestTarget $target 'count' | Should -BeLike 'OK*' -Because 'the target runs on'
    }

    It 'stops writing a dump, waits for createdump and deletes the partial file' {
        $r = Invoke-AndStop -Script 'param($p, $d) New-MemoryDump -ProcessId $p -Path $d' -Arguments $target.ProcessId, $dumpFolder -AfterSeconds 0.3
        $r.WasRunning | Should -BeTrue
        $r.StopSeconds | Should -BeLessThan 30
        Get-ChildItem $dumpFolder -Force | Should -BeNullOrEmpty
        Send-TestTarget $target 'count' | Should -BeLike 'OK*'
    }

    It 'stops reading a dump' {
        # -LiveOnly: the reachability walk takes seconds on this dump (the plain per-type read finishes in about one).
        $r = Invoke-AndStop -Script 'param($d) New-HeapSnapshot -DumpPath $d -LiveOnly' -Arguments $bigDump -AfterSeconds 1.0
        $r.WasRunning | Should -BeTrue
        $r.StopSeconds | Should -BeLessThan 10
        $r.State | Should -Be 'Stopped'
    }

    It 'stops waiting for another writer''s baseline lock, and saves nothing' {
        $store = Join-Path $TestDrive 'store'
        New-Item -ItemType Directory $store | Out-Null
        # Hold the lock the way a second writer would (an exclusive open of the lock file).
        $lock = [System.IO.File]::Open((Join-Path $store 'held.baseline.lock'), 'OpenOrCreate', 'ReadWrite', 'None')
        try {
            $r = Invoke-AndStop -Script 'param($s) [MemoryOps.HeapSnapshot]@{ TotalBytes = 1 } | Save-MemoryBaseline -Name held -Store $s' -Arguments $store -AfterSeconds 1.0
            $r.WasRunning | Should -BeTrue
            $r.StopSeconds | Should -BeLessThan 2
            Test-Path (Join-Path $store 'held.baseline.json.gz') | Should -BeFalse
        } finally { $lock.Dispose() }
    }
}

Describe 'When the dump reader process dies' {
    # Dumps are read in a child process (lib/MemoryOps.DumpWorker.dll); a corrupt dump can crash the runtime's native
    # DAC there. Here the reader is made to die for real, by a signal sent while it reads a big dump.
    BeforeAll {
        $target = Start-TestTarget
        Send-TestTarget $target 'leak 1500000' | Out-Null
        $script:readerDump = (New-MemoryDump -ProcessId $target.ProcessId -Path (Join-Path $TestDrive 'reader.dmp') -Type Heap).Path
        $target | Stop-TestTarget

        # The readers of a dump: processes whose command line runs MemoryOps.DumpWorker.dll on that very path.
        $script:findReaders = {
            param([string] $Dump)
            foreach ($dir in [IO.Directory]::GetDirectories('/proc')) {
                $id = Split-Path $dir -Leaf
                if ($id -notmatch '^\d+$') { continue }
                try { $argv = [IO.File]::ReadAllText("$dir/cmdline").Split([char]0) } catch { continue }
                if (($argv | Where-Object { $_ -like '*/MemoryOps.DumpWorker.dll' }) -and $argv -contains $Dump) { [int]$id }
            }
        }
        # Waits (up to 120 s) until a reader of the dump has the dump open, i.e. is reading it, then sends it the signal.
        # Runs in a thread job: the finder comes as text (a script block stays bound to the runspace that made it).
        $script:signalReader = {
            param([string] $Dump, [string] $Signal, [string] $FindReadersText)
            $FindReaders = [scriptblock]::Create($FindReadersText)
            $deadline = [DateTime]::UtcNow.AddSeconds(120)
            while ([DateTime]::UtcNow -lt $deadline) {
                foreach ($id in & $FindReaders $Dump) {
                    $open = foreach ($fd in [IO.Directory]::GetFiles("/proc/$id/fd")) { try { [IO.FileInfo]::new($fd).LinkTarget } catch { } }
                    if ($open -contains $Dump) {
                        & kill "-$Signal" $id
                        $first = $LASTEXITCODE
                        # The runtime's own SIGSEGV handler takes a SIGSEGV that is not its own fault, restores the default
                        # action and returns, expecting the faulting instruction to fault again (as a real crash in the DAC
                        # does); a signal sent by kill does not come again by itself, so it is sent until the reader is gone.
                        for ($n = 1; $n -lt 100 -and (Test-Path "/proc/$id/fd"); $n++) { Start-Sleep -Milliseconds 50; & kill "-$Signal" $id 2>$null }
                        return [pscustomobject]@{ ProcessId = $id; KillExit = $first; Sent = $n }
                    }
                }
                Start-Sleep -Milliseconds 20
            }
            throw "No reader of '$Dump' appeared within 120 s."
        }
    }

    It 'turns SIG<Signal> of the reader during <Name> into InvalidData naming the dump; pwsh and the module go on' -ForEach @(
        @{ Name = 'New-HeapSnapshot -LiveOnly'; Signal = 'SEGV'; Message = '*crashed the dump reader (signal 11, SIGSEGV): the dump is corrupt*'; Command = 'New-HeapSnapshot'; Switches = @{ LiveOnly = $true } }
        @{ Name = 'Get-HeapRetention -RetainedSize'; Signal = 'SEGV'; Message = '*crashed the dump reader (signal 11, SIGSEGV): the dump is corrupt*'; Command = 'Get-HeapRetention'; Switches = @{ RetainedSize = $true } }
        @{ Name = 'New-HeapSnapshot -LiveOnly'; Signal = 'KILL'; Message = '*reader was killed (signal 9, SIGKILL)*out-of-memory killer*'; Command = 'New-HeapSnapshot'; Switches = @{ LiveOnly = $true } }
    ) {
        $killer = Start-ThreadJob -ScriptBlock $signalReader -ArgumentList $readerDump, $Signal, $findReaders.ToString()
        $out = & $Command -DumpPath $readerDump @Switches -ErrorVariable err -ErrorAction SilentlyContinue
        $kill = $killer | Wait-Job -Timeout 150 | Receive-Job
        $killer | Remove-Job -Force
        $kill.KillExit | Should -Be 0 -Because 'the signal must reach the reader while it reads'
        $out | Should -BeNullOrEmpty
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidData,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $err[0].TargetObject | Should -Be $readerDump
        $err[0].Exception.Message | Should -BeLike "*'$readerDump'*"
        $err[0].Exception.Message | Should -BeLike $Message
        Test-Path "/proc/$($kill.ProcessId)" | Should -BeFalse -Because 'the dead reader was waited for'
        # This pwsh lives on, and so does the module: the same dump reads in the next call.
        (New-HeapSnapshot -DumpPath $readerDump).ObjectCount | Should -BeGreaterThan 3000000
    }

    It 'ends a reader that makes no progress (SIGSTOP) after its time limit, as Timeout naming the dump; the next read works' {
        # A damaged dump can send the heap walk round a loop; a stopped reader stands for it, deterministically.
        $limit = 60 + (Get-Item $readerDump).Length / 5MB
        # The stop must land while the reader reads: a read that finished first (a fast machine) is tried again, up to 5 times.
        for ($attempt = 1; $attempt -le 5; $attempt++) {
            $killer = Start-ThreadJob -ScriptBlock $signalReader -ArgumentList $readerDump, 'STOP', $findReaders.ToString()
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $out = New-HeapSnapshot -DumpPath $readerDump -ErrorVariable err -ErrorAction SilentlyContinue
            $clock.Stop()
            if ($out) { $killer | Remove-Job -Force; continue }
            $kill = $killer | Wait-Job -Timeout 150 | Receive-Job
            $killer | Remove-Job -Force
            break
        }
        $kill.KillExit | Should -Be 0 -Because 'the reader must be stopped while it reads'
        $out | Should -BeNullOrEmpty
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'Timeout,*'
        $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        $err[0].TargetObject | Should -Be $readerDump
        $err[0].Exception.Message | Should -BeLike "*did not finish '$readerDump' within*"
        $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual ($limit - 1)
        $clock.Elapsed.TotalSeconds | Should -BeLessThan ($limit + 60)
        Test-Path "/proc/$($kill.ProcessId)/fd" | Should -BeFalse -Because 'the stopped reader was killed and waited for'
        (New-HeapSnapshot -DumpPath $readerDump).ObjectCount | Should -BeGreaterThan 3000000
    }

    It 'a reader whose pwsh is killed ends by itself' {
        # `dotnet <PSHOME>/pwsh.dll`: one process, the reader's parent (`dotnet pwsh` would put the SDK's launcher between).
        $psi = [Diagnostics.ProcessStartInfo]::new('dotnet')
        foreach ($a in (Join-Path $PSHOME 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-c', "Import-Module '$env:MEMORYOPS_MODULE_PATH'; Get-HeapRetention -DumpPath '$readerDump' -RetainedSize") { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false; $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true
        $pwsh = [Diagnostics.Process]::Start($psi)
        try {
            # The reader is found once it has the dump open; instead of signalling it, its pwsh is killed.
            $deadline = [DateTime]::UtcNow.AddSeconds(120)
            do {
                $reader = & $findReaders $readerDump | Where-Object { (Get-Content "/proc/$_/status" -ErrorAction SilentlyContinue) -match "^PPid:\s+$($pwsh.Id)$" } | Select-Object -First 1
                if (-not $reader) { Start-Sleep -Milliseconds 50 }
            } until ($reader -or $pwsh.HasExited -or [DateTime]::UtcNow -gt $deadline)
            $reader | Should -Not -BeNullOrEmpty -Because 'the child pwsh must start a reader'
            $pwsh.Kill()
            $pwsh.WaitForExit()
            # Gone, or a zombie (its new parent, PID 1 of a container, may never reap it): either way no longer running.
            $running = { $stat = Get-Content "/proc/$reader/stat" -ErrorAction SilentlyContinue; $stat -and ($stat -split '\) ')[1][0] -ne 'Z' }
            $gone = [DateTime]::UtcNow.AddSeconds(10)
            while ((& $running) -and [DateTime]::UtcNow -lt $gone) { Start-Sleep -Milliseconds 50 }
            & $running | Should -BeFalse -Because 'the reader sees its stdin close when pwsh ends, and stops'
        } finally {
            if (-not $pwsh.HasExited) { $pwsh.Kill($true) }
            foreach ($id in & $findReaders $readerDump) { & kill -KILL $id }
        }
    }
}

Describe 'Load' {
    BeforeAll {
        $script:targets = 1..8 | ForEach-Object { Start-TestTarget }
    }
    AfterAll { $script:targets | Stop-TestTarget }

    It 'serves eight counter sessions against one target at once' {
        $jobs = 1..8 | ForEach-Object {
            Start-ThreadJob -ArgumentList $env:MEMORYOPS_MODULE_PATH, $targets[0].ProcessId -ScriptBlock {
                param($ModulePath, $ProcessId)
                Import-Module $ModulePath
                Get-GcCounter -ProcessId $ProcessId -Counter gc-heap-size, alloc-rate -MaxSamples 3
            }
        }
        $done = $jobs | Wait-Job -Timeout 120
        $done | Should -HaveCount 8
        foreach ($job in $jobs) {
            $samples = $job | Receive-Job -ErrorVariable jobErrors
            $jobErrors | Should -BeNullOrEmpty
            ($samples | Where-Object Name -eq 'gc-heap-size') | Should -HaveCount 3
            ($samples | Where-Object Name -eq 'alloc-rate') | Should -HaveCount 3
        }
        $jobs | Remove-Job -Force
        Wait-TestTargetSessionsClosed $targets[0] | Should -Be 'OK sessions enabled='
    }

    It 'serves one counter session against eight targets' {
        $samples = $targets | Get-GcCounter -Counter gc-heap-size -MaxSamples 2
        ($samples | Group-Object ProcessId).Count | Should -Be 8
        $samples | Group-Object ProcessId | ForEach-Object { $_.Count | Should -Be 2 }
        foreach ($t in $targets) { Wait-TestTargetSessionsClosed $t | Should -Be 'OK sessions enabled=' }
    }
}

Describe 'Soak' {
    BeforeAll {
        $script:target = Start-TestTarget
        Send-TestTarget $target 'churn on' | Out-Null
        $script:seconds = if ($env:MEMORYOPS_SOAK_SECONDS) { [int]$env:MEMORYOPS_SOAK_SECONDS } else { 30 }
    }
    AfterAll { $script:target | Stop-TestTarget }

    It 'collects every sample of a long -Continuous session, and the collector''s own memory stays flat' {
        $self = Get-Process -Id $PID
        # Warm up (JIT, first session), then measure from a settled state.
        Get-GcCounter -ProcessId $target.ProcessId -Counter gc-heap-size -MaxSamples 2 | Out-Null
        [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
        $heapBefore = [GC]::GetTotalMemory($true)
        $self.Refresh(); $rssBefore = $self.WorkingSet64

        $script:heapSamples = [System.Collections.Generic.List[long]]::new()
        $samples = Get-GcCounter -ProcessId $target.ProcessId -Counter gc-heap-size, alloc-rate -Interval 1 -Duration $seconds |
            ForEach-Object { if ($_.Name -eq 'alloc-rate') { $script:heapSamples.Add([GC]::GetTotalMemory($false)) }; $_ }

        [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
        $heapAfter = [GC]::GetTotalMemory($true)
        $self.Refresh(); $rssAfter = $self.WorkingSet64

        # No sample lost: one per second per counter, in order, without gaps.
        foreach ($name in 'gc-heap-size', 'alloc-rate') {
            $series = @($samples | Where-Object Name -eq $name)
            $series.Count | Should -BeGreaterOrEqual ($seconds - 2)
            for ($i = 1; $i -lt $series.Count; $i++) {
                ($series[$i].Timestamp - $series[$i - 1].Timestamp).TotalSeconds | Should -BeLessThan 1.9 -Because "sample $i of $name follows the one before by one interval"
            }
        }
        Write-Host ("    soak {0} s: managed heap {1:N1} -> {2:N1} MB, RSS {3:N1} -> {4:N1} MB" -f $seconds, ($heapBefore / 1MB), ($heapAfter / 1MB), ($rssBefore / 1MB), ($rssAfter / 1MB))
        ($heapAfter - $heapBefore) | Should -BeLessThan 8MB -Because 'a memory tool must not leak: the managed heap after a full GC stays where it was'
        ($rssAfter - $rssBefore) | Should -BeLessThan 64MB
        Wait-TestTargetSessionsClosed $target | Should -Be 'OK sessions enabled='
    }
}

Describe 'Safety' {
    BeforeAll {
        $script:target = Start-TestTarget
        Send-TestTarget $target 'leak 1000' | Out-Null
        $script:snapshot = New-HeapSnapshot -ProcessId $target.ProcessId
    }
    AfterAll { $script:target | Stop-TestTarget }

    It 'never writes through a symbolic link planted at an output path: <Name>' -ForEach @(
        @{ Name = 'Export-HeapSnapshot'; Write = { param($path, $s, $t) $s | Export-HeapSnapshot -Path $path -Force } }
        @{ Name = 'New-MemoryDump'; Write = { param($path, $s, $t) New-MemoryDump -ProcessId $t -Type Triage -Path $path -Force } }
    ) {
        $victim = Join-Path $TestDrive "victim-$Name.txt"
        Set-Content $victim 'precious'
        $link = Join-Path $TestDrive "link-$Name"
        New-Item -ItemType SymbolicLink -Path $link -Target $victim | Out-Null
        & $Write $link $snapshot $target.ProcessId | Out-Null
        Get-Content $victim | Should -Be 'precious'
        (Get-Item $link -Force).LinkType | Should -BeNullOrEmpty -Because 'the link was replaced by a new owner-only file'
        (Get-Item $link).UnixMode | Should -Be '-rw-------'
    }

    It 'never writes a baseline through a symbolic link planted in the store' {
        $store = Join-Path $TestDrive 'linked-store'
        New-Item -ItemType Directory $store | Out-Null
        $victim = Join-Path $TestDrive 'victim-baseline.txt'
        Set-Content $victim 'precious'
        New-Item -ItemType SymbolicLink -Path (Join-Path $store 'orders.baseline.json.gz') -Target $victim | Out-Null
        # The link points at a file that is not a baseline: it is refused as unreadable and nothing is written.
        { $snapshot | Save-MemoryBaseline -Name orders -Store $store -ErrorAction Stop } | Should -Throw '*cannot be read*'
        Get-Content $victim | Should -Be 'precious'
    }

    It 'keeps earlier baselines intact when the disk fills while a baseline is written' {
        $small = Join-Path $TestDrive 'small-store'
        New-Item -ItemType Directory $small | Out-Null
        mount -t tmpfs -o size=256k tmpfs $small
        if ($LASTEXITCODE -ne 0) { throw 'this test needs root to mount a small tmpfs' }
        try {
            $tiny = [MemoryOps.HeapSnapshot]@{ Source = 'Process'; TotalBytes = 1; Timestamp = [datetime]::UtcNow }
            $tiny | Save-MemoryBaseline -Name orders -Store $small
            $before = Get-FileHash (Join-Path $small 'orders.baseline.json.gz')
            # A snapshot too big for what is left: random type names do not compress.
            $big = [MemoryOps.HeapSnapshot]@{ Source = 'Process'; TotalBytes = 2; Timestamp = [datetime]::UtcNow }
            foreach ($i in 1..20000) { $big.Types.Add([MemoryOps.HeapTypeStat]@{ TypeName = [guid]::NewGuid().ToString(); Count = $i; TotalBytes = $i * 24 }) }
            $err = $null
            try { $big | Save-MemoryBaseline -Name orders -Store $small } catch { $err = $_ }
            $err | Should -Not -BeNullOrEmpty
            $err.FullyQualifiedErrorId | Should -BeLike 'InsufficientSpace,*'
            $err.Exception.Message | Should -BeLike '*disk is full*'
            (Get-FileHash (Join-Path $small 'orders.baseline.json.gz')).Hash | Should -Be $before.Hash
            Get-ChildItem $small -Force -Filter '*.tmp' | Should -BeNullOrEmpty
            (Get-MemoryBaseline -Name orders -Store $small -History) | Should -HaveCount 1
        } finally { umount $small }
    }
}

Describe 'A process owned by another user' {
    BeforeAll {
        $script:target = Start-TestTarget   # runs as this (root) user
        $script:user = 'memoryops-probe'
        id $user 2>$null | Out-Null
        if ($LASTEXITCODE -ne 0) { useradd --system --no-create-home --shell /usr/sbin/nologin $user; if ($LASTEXITCODE -ne 0) { throw 'this test needs root to create a user' } }
        # The unprivileged user runs this same PowerShell: its folder (under root's NuGet cache) is bind-mounted
        # where that user can read it.
        $script:pwshDir = Split-Path ([psobject].Assembly.Location)
        $script:mount = Join-Path ([IO.Path]::GetTempPath()) "memoryops-pwsh-$PID"
        New-Item -ItemType Directory $mount -Force | Out-Null
        mount --bind $pwshDir $mount
        if ($LASTEXITCODE -ne 0) { throw 'this test needs root to bind-mount PowerShell for another user' }
        # The module too: the repository may sit in a folder only its owner can enter (a mktemp -d clone).
        $script:moduleMount = Join-Path ([IO.Path]::GetTempPath()) "memoryops-module-$PID"
        New-Item -ItemType Directory $moduleMount -Force | Out-Null
        mount --bind (Split-Path $env:MEMORYOPS_MODULE_PATH) $moduleMount
        if ($LASTEXITCODE -ne 0) { throw 'this test needs root to bind-mount the module for another user' }
        $script:userHome = Join-Path ([IO.Path]::GetTempPath()) "memoryops-home-$PID"
        New-Item -ItemType Directory $userHome -Force | Out-Null
        chown $user $userHome
    }
    AfterAll {
        umount $script:mount
        umount $script:moduleMount
        Remove-Item $script:mount, $script:moduleMount, $script:userHome -Recurse -Force -ErrorAction SilentlyContinue
        $script:target | Stop-TestTarget
    }

    It 'gets a clear AccessDenied error that says whose process it is and what to do' {
        $script = "Import-Module '$moduleMount/$(Split-Path -Leaf $env:MEMORYOPS_MODULE_PATH)'; Get-DotNetProcess -Id $($target.ProcessId) -ErrorVariable e -ErrorAction SilentlyContinue; " +
                  "`$e[0].FullyQualifiedErrorId; `$e[0].CategoryInfo.Category; `$e[0].Exception.Message; " +
                  "(Get-DotNetProcess -WarningAction SilentlyContinue).ProcessId -contains $($target.ProcessId)"
        $out = runuser -u $user -- env "HOME=$userHome" "DOTNET_CLI_HOME=$userHome" dotnet "$mount/pwsh.dll" -NoProfile -NonInteractive -Command $script 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        $out[0] | Should -BeLike 'AccessDenied,*'
        $out[1] | Should -Be 'PermissionDenied'
        $out[2] | Should -BeLike "*process $($target.ProcessId)*denied*Run as the user that owns the process (root) or as root*"
        $out[3] | Should -Be 'False' -Because 'a process the user cannot diagnose is not listed'
    }
}

# Get-ProcessMemory against the real kernel: processes that are not .NET, a memory cgroup made by the test with a
# small limit, a Go program that leaks until the kernel's OOM killer ends it, and TestTarget leaking inside a cgroup.
# Every figure is checked against the kernel's own files, read here independently (Get-Content), close in time.
BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'TestFleet.psm1') -Force   # Install-DebianPackage
    $script:work = Join-Path ([IO.Path]::GetTempPath()) "memoryops-procmem-$PID-$([guid]::NewGuid().ToString('N').Substring(0, 6))"
    New-Item -ItemType Directory $script:work | Out-Null

    function Get-KernelKilobytes([int] $ProcessId, [string] $File, [string] $Field) {
        $line = Get-Content "/proc/$ProcessId/$File" | Where-Object { $_ -match "^${Field}:\s+(\d+) kB" } | Select-Object -First 1
        if (-not $line) { throw "/proc/$ProcessId/$File has no $Field" }
        [long]([regex]::Match($line, '(\d+) kB').Groups[1].Value) * 1024
    }

    function Get-WritableMemoryCgroupRoot {
        <# Where this machine's memory controller is mounted, if the test (root) can make cgroups there; else the reason. #>
        if ((id -u) -ne '0') { return [pscustomobject]@{ Problem = 'the test must run as root to make a memory cgroup (mkdir in the cgroup file system)' } }
        $mounts = Get-Content /proc/self/mountinfo | ForEach-Object {
            $f = $_ -split ' '; $dash = [array]::IndexOf($f, '-')
            [pscustomobject]@{ MountPoint = $f[4] -replace '\\040', ' '; Type = $f[$dash + 1]; Options = $f[$dash + 3] -split ',' }
        }
        $v1 = $mounts | Where-Object { $_.Type -eq 'cgroup' -and $_.Options -contains 'memory' } | Select-Object -First 1
        if ($v1) { return [pscustomobject]@{ Version = 1; Root = $v1.MountPoint; Problem = $null } }
        $v2 = $mounts | Where-Object Type -eq 'cgroup2' | Select-Object -First 1
        if ($v2 -and ((Get-Content (Join-Path $v2.MountPoint 'cgroup.controllers') -Raw) -split '\s+') -contains 'memory') {
            return [pscustomobject]@{ Version = 2; Root = $v2.MountPoint; Problem = $null }
        }
        [pscustomobject]@{ Problem = 'this machine has no memory cgroup controller mounted (neither a cgroup v1 "memory" hierarchy nor a cgroup2 mount with the memory controller): the OOM and limit tests cannot run' }
    }

    function New-TestCgroup([long] $LimitBytes) {
        <# A child memory cgroup with a hard limit and no swap, so that the kernel's OOM killer acts at the limit. #>
        $root = $script:cgroupRoot
        if ($root.Problem) { throw "No writable memory cgroup: $($root.Problem)." }
        $name = "memoryops-test-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $dir = Join-Path $root.Root $name
        try { New-Item -ItemType Directory $dir -ErrorAction Stop | Out-Null }
        catch { throw "Cannot make the memory cgroup '$dir' ($($_.Exception.Message)): the cgroup file system is not writable here." }
        if ($root.Version -eq 1) {
            Set-Content (Join-Path $dir 'memory.limit_in_bytes') $LimitBytes -NoNewline
            # With swap, the kernel would swap the leak out instead of killing it: memory+swap gets the same limit.
            $memsw = Join-Path $dir 'memory.memsw.limit_in_bytes'
            if (Test-Path $memsw) { Set-Content $memsw $LimitBytes -NoNewline }
        } else {
            # v2: the memory controller must be enabled for the root's children, and a child may not also hold processes.
            Set-Content (Join-Path $root.Root 'cgroup.subtree_control') '+memory' -NoNewline -ErrorAction SilentlyContinue
            Set-Content (Join-Path $dir 'memory.max') $LimitBytes -NoNewline
            if (Test-Path (Join-Path $dir 'memory.swap.max')) { Set-Content (Join-Path $dir 'memory.swap.max') 0 -NoNewline }
        }
        $cgroup = [pscustomobject]@{ Name = $name; Directory = $dir; Path = "/$name"; Version = $root.Version; Limit = $LimitBytes }
        $script:cgroups.Add($cgroup)
        $cgroup
    }

    function New-ChildCgroup($Parent) {
        <# A cgroup inside another, with no limit of its own: the parent's limit is the one that counts. #>
        $name = "child-$([guid]::NewGuid().ToString('N').Substring(0, 6))"
        if ($Parent.Version -eq 2) { Set-Content (Join-Path $Parent.Directory 'cgroup.subtree_control') '+memory' -NoNewline }
        $dir = Join-Path $Parent.Directory $name
        New-Item -ItemType Directory $dir | Out-Null
        $child = [pscustomobject]@{ Name = $name; Directory = $dir; Path = "$($Parent.Path)/$name"; Version = $Parent.Version; Limit = $null }
        $script:cgroups.Insert(0, $child)   # removed before its parent
        $child
    }

    function Read-CgroupFile($Cgroup, [string] $V1, [string] $V2) {
        (Get-Content (Join-Path $Cgroup.Directory $(if ($Cgroup.Version -eq 1) { $V1 } else { $V2 })) -Raw).Trim()
    }

    function Get-CgroupOomKills($Cgroup) {
        $text = Read-CgroupFile $Cgroup 'memory.oom_control' 'memory.events'
        [long]([regex]::Match($text, '(?m)^oom_kill (\d+)').Groups[1].Value)
    }

    function Start-InCgroup($Cgroup, [string] $FileName, [string[]] $ArgumentList = @()) {
        <# Starts a program inside the cgroup from its first instruction (a shell joins the cgroup, then execs it: same PID). #>
        $psi = [System.Diagnostics.ProcessStartInfo]::new('sh')
        $psi.ArgumentList.Add('-c')
        $psi.ArgumentList.Add('echo $$ > "$0" && exec "$@"')
        $psi.ArgumentList.Add((Join-Path $Cgroup.Directory 'cgroup.procs'))
        $psi.ArgumentList.Add($FileName)
        foreach ($a in $ArgumentList) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardInput = $true
        $psi.RedirectStandardOutput = $true
        $psi.UseShellExecute = $false
        $process = [System.Diagnostics.Process]::Start($psi)
        $target = [pscustomobject]@{ PSTypeName = 'TestTarget'; ProcessId = $process.Id; Process = $process }
        $script:started.Add($process)
        $read = $process.StandardOutput.ReadLineAsync()
        if (-not $read.Wait([TimeSpan]::FromSeconds(30))) { throw "$FileName did not answer within 30 s." }
        $line = $read.Result
        if ($line -notmatch '^READY pid=(\d+)') { throw "$FileName did not start in the cgroup: '$line'" }
        if ([int]$Matches[1] -ne $process.Id) { throw "$FileName runs as PID $($Matches[1]), not $($process.Id)." }
        $target
    }

    function Remove-TestCgroup($Cgroup) {
        <# Ends what the test started in the cgroup, then removes it (rmdir works once its last process is gone). #>
        if (-not (Test-Path $Cgroup.Directory)) { return }
        $deadline = [DateTime]::UtcNow.AddSeconds(15)
        while ($true) {
            $pids = @(Get-Content (Join-Path $Cgroup.Directory 'cgroup.procs') | Where-Object { $_ })
            foreach ($p in $pids) { if ($script:started.Id -contains [int]$p) { kill -9 $p 2>$null } }
            if ($pids.Count -eq 0) {
                try { [IO.Directory]::Delete($Cgroup.Directory); return } catch { }   # rmdir: the cgroup's files are not files to delete
            }
            if ([DateTime]::UtcNow -gt $deadline) { Write-Warning "Could not remove the test cgroup $($Cgroup.Directory) (processes: $($pids -join ', '))."; return }
            Start-Sleep -Milliseconds 100
        }
    }

    $script:cgroups = [Collections.Generic.List[object]]::new()
    $script:started = [Collections.Generic.List[System.Diagnostics.Process]]::new()
    $script:cgroupRoot = Get-WritableMemoryCgroupRoot

    # The Go leaker, built from tests/GoLeaker with Debian's Go (installed when missing), offline, caches in the work folder.
    $script:goLeaker = $null
    $script:goProblem = $null
    try {
        Install-DebianPackage -Command go -Package golang-go
        $saved = @{}
        $goEnv = @{ GOCACHE = "$work/gocache"; GOPATH = "$work/gopath"; GOPROXY = 'off'; GOFLAGS = '-mod=mod'; GO111MODULE = 'on'; GOTOOLCHAIN = 'local'; CGO_ENABLED = '0' }
        foreach ($k in $goEnv.Keys) { $saved[$k] = [Environment]::GetEnvironmentVariable($k); [Environment]::SetEnvironmentVariable($k, $goEnv[$k]) }
        Push-Location (Join-Path $PSScriptRoot '../GoLeaker')
        try { $out = go build -o "$work/goleaker" . 2>&1 } finally {
            Pop-Location
            foreach ($k in $saved.Keys) { [Environment]::SetEnvironmentVariable($k, $saved[$k]) }
        }
        if ($LASTEXITCODE -ne 0) { throw "go build failed: $out" }
        $script:goLeaker = "$work/goleaker"
    } catch { $script:goProblem = "$_" }
}

AfterAll {
    foreach ($c in $script:cgroups) { Remove-TestCgroup $c }
    foreach ($p in $script:started) { try { if (-not $p.HasExited) { $p.Kill($true) }; $p.Dispose() } catch { } }   # some were stopped and disposed already
    Remove-Item -Recurse -Force $script:work -ErrorAction SilentlyContinue
}

Describe 'Get-ProcessMemory' {
    It 'reads a process that is not .NET (sleep) without a diagnostic socket, and agrees with /proc and its cgroup files' {
        $sleep = Start-NonDotNetProcess
        try {
            $m = Get-ProcessMemory -ProcessId $sleep.Id
            $m | Should -BeOfType ([MemoryOps.ProcessMemoryInfo])
            $m.ProcessName | Should -Be 'sleep'
            $m.ProcessAlive | Should -BeTrue
            # sleep does nothing: its memory does not move between the two reads.
            $pssBefore = Get-KernelKilobytes $sleep.Id smaps_rollup Pss
            $m = Get-ProcessMemory -ProcessId $sleep.Id
            $pssAfter = Get-KernelKilobytes $sleep.Id smaps_rollup Pss
            $m.ResidentBytes | Should -Be (Get-KernelKilobytes $sleep.Id smaps_rollup Rss)
            # PSS shares pages among the processes mapping them: it moves when any other process maps libc.
            $m.ProportionalBytes | Should -BeGreaterOrEqual ([math]::Min($pssBefore, $pssAfter))
            $m.ProportionalBytes | Should -BeLessOrEqual ([math]::Max($pssBefore, $pssAfter))
            $m.AnonymousBytes | Should -Be (Get-KernelKilobytes $sleep.Id status RssAnon)
            $m.FileBytes | Should -Be (Get-KernelKilobytes $sleep.Id status RssFile)
            $m.GcCommittedBytes | Should -BeNullOrEmpty -Because 'sleep has no GC'
            # Its memory cgroup is the one /proc names; no limit is said as null and NoLimit, never as a huge number.
            $line = Get-Content "/proc/$($sleep.Id)/cgroup" | Where-Object { $_ -match '^\d+:([^:]*,)?memory(,[^:]*)?:' -or $_ -match '^0::' } | Select-Object -First 1
            $m.CgroupPath | Should -Be ($line -replace '^\d+:[^:]*:', '')
            if ($m.NoLimit) {
                $m.LimitBytes | Should -BeNullOrEmpty
                $m.Utilization | Should -BeNullOrEmpty
                ($m | Get-ProcessMemory -AsSample).Name | Should -Not -Contain 'memory.cgroup.limit'
            } else {
                # cgroup v1 writes "no limit" as the largest page-aligned long; a real limit is far below 2^62.
                $m.LimitBytes | Should -BeLessThan ([long]1 -shl 62)
            }
            # Get-Process objects bind by Id.
            (Get-Process -Id $sleep.Id | Get-ProcessMemory).ProcessId | Should -Be $sleep.Id
            (Get-ProcessMemory -Name sleep).ProcessId | Should -Contain $sleep.Id
        } finally { $sleep.Kill(); $sleep.WaitForExit(); $sleep.Dispose() }
    }

    It 'goes into a report as the samples it stands for, values unchanged' {
        $sleep = Start-NonDotNetProcess
        try {
            $m = Get-ProcessMemory -ProcessId $sleep.Id
            $file = Join-Path $script:work 'process-memory.html'
            $m | Export-MemoryReport -Path $file -ErrorVariable failed
            $failed | Should -BeNullOrEmpty
            $html = Get-Content -LiteralPath $file -Raw
            $data = [regex]::Match($html, '<script type="application/json" id="memoryops-data">(.*?)</script>', 'Singleline').Groups[1].Value | ConvertFrom-Json
            $series = $data.charts.series | Where-Object role -eq 'data'
            $rss = $series | Where-Object label -eq "memory.rss · sleep ($($sleep.Id))"
            $rss.v | Should -Be @([double]$m.ResidentBytes)
            $anon = $series | Where-Object label -eq "memory.anonymous · sleep ($($sleep.Id))"
            $anon.v | Should -Be @([double]$m.AnonymousBytes)
        } finally { $sleep.Kill(); $sleep.WaitForExit(); $sleep.Dispose() }
    }

    It 'comes home from a background job as itself, nulls kept, and rules take it' {
        $sleep = Start-NonDotNetProcess
        try {
            $fromJob = Start-Job -ArgumentList $env:MEMORYOPS_MODULE_PATH, $sleep.Id {
                param($module, $processId)
                Import-Module $module
                Get-ProcessMemory -ProcessId $processId
            } | Receive-Job -Wait -AutoRemoveJob
            $fromJob | Should -BeOfType ([MemoryOps.ProcessMemoryInfo])
            $fromJob.ResidentBytes | Should -BeGreaterThan 0
            $fromJob.GcCommittedBytes | Should -BeNullOrEmpty -Because 'null stays null, not 0'
            $fromJob.NoLimit | Should -Be ($null -eq $fromJob.LimitBytes)
            ($fromJob | Test-MemoryThreshold -Rule (New-MemoryRule -Counter memory.rss -Maximum 1GB)).Passed | Should -BeTrue
        } finally { $sleep.Kill(); $sleep.WaitForExit(); $sleep.Dispose() }
    }

    It 'completes its sample names in New-MemoryRule -Counter, and not in Get-GcCounter -Counter' {
        $line = 'New-MemoryRule -Counter memory.limit.u'
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Be 'memory.limit.utilization'
        $line = 'Get-GcCounter -ProcessId 1 -Counter memory.limit.u'
        (TabExpansion2 $line $line.Length).CompletionMatches | Should -BeNullOrEmpty
    }

    It 'sends a Get-ProcessMemory figure asked of Get-GcCounter to Get-ProcessMemory, before contacting any process' {
        { Get-GcCounter -ProcessId $PID -Counter memory.limit.utilization -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidInput,*' -ExpectedMessage '*Get-ProcessMemory -AsSample*'
    }

    It 'says a PID with no process is ProcessNotFound, and goes on with the other inputs' {
        $gone = Start-NonDotNetProcess
        $gonePid = $gone.Id
        $gone.Kill(); $gone.WaitForExit(); $gone.Dispose()
        $sleep = Start-NonDotNetProcess
        try {
            $out = Get-ProcessMemory -ProcessId $gonePid, $sleep.Id -ErrorVariable err -ErrorAction SilentlyContinue
            $out.ProcessId | Should -Be $sleep.Id
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'ProcessNotFound,*'
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err[0].TargetObject | Should -Be $gonePid
            Get-ProcessMemory -Name 'no-such-process-here' -ErrorVariable err2 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err2[0].FullyQualifiedErrorId | Should -BeLike 'ProcessNotFound,*'
        } finally { $sleep.Kill(); $sleep.WaitForExit(); $sleep.Dispose() }
    }

    It 'shows a process name with control characters escaped in views and messages' {
        $target = Start-TestTarget
        try {
            $hostile = "evil`e[31mred`nline"
            Send-TestTarget $target ('comm ' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($hostile))) | Out-Null
            $m = Get-ProcessMemory -ProcessId $target.ProcessId
            $m.ProcessName | Should -Be $hostile.Substring(0, 15) -Because 'the object keeps the raw name (comm holds 15 bytes)'
            foreach ($view in 'Format-Table', 'Format-List') {
                $text = $m | & $view | Out-String -Width 300
                $text | Should -Not -Match "`e"
                $text | Should -Not -Match "red`n"
            }
            $text | Should -Match ([regex]::Escape('evil\e[31mred\nli'))
        } finally { $target | Stop-TestTarget }
    }

    It 'watches a leaking Go program climb toward its cgroup''s limit, then counts the OOM kill that ends it' {
        if ($script:goProblem) { throw "The Go leaker could not be built: $script:goProblem" }
        $cgroup = New-TestCgroup -LimitBytes 200MB
        $bystander = Start-InCgroup $cgroup 'sh' @('-c', 'echo READY pid=$$; exec sleep 600')
        $go = Start-InCgroup $cgroup $script:goLeaker
        $killsBefore = Get-CgroupOomKills $cgroup

        # Drive the leak in 16 MiB steps until the cgroup is 85 % full (bounded: 200 MB is 13 steps), checking each
        # reading against the kernel's files read right after it (the leaker waits on stdin between steps).
        $readings = [Collections.Generic.List[object]]::new()
        for ($step = 0; $step -lt 20; $step++) {
            Send-TestTarget $go 'grow 16' | Out-Null
            $m = Get-ProcessMemory -ProcessId $go.ProcessId
            $usage = [long](Read-CgroupFile $cgroup 'memory.usage_in_bytes' 'memory.current')
            $rss = Get-KernelKilobytes $go.ProcessId smaps_rollup Rss
            $readings.Add($m)
            $m.CgroupVersion | Should -Be $cgroup.Version
            $m.CgroupPath | Should -Be $cgroup.Path
            $m.LimitBytes | Should -Be $cgroup.Limit
            $m.LimitCgroupPath | Should -Be $cgroup.Path
            [math]::Abs($m.LimitUsageBytes - $usage) | Should -BeLessOrEqual 1MB -Because "memory.usage_in_bytes said $usage"
            [math]::Abs($m.ResidentBytes - $rss) | Should -BeLessOrEqual 1MB -Because "smaps_rollup said Rss $rss"
            $m.HeadroomBytes | Should -Be ($m.LimitBytes - $m.LimitUsageBytes)
            $m.Utilization | Should -Be ($m.LimitUsageBytes / $m.LimitBytes)
            if ($m.Utilization -ge 0.85) { break }
        }
        $readings[-1].Utilization | Should -BeGreaterOrEqual 0.85 -Because "utilization went $(($readings.Utilization | ForEach-Object { $_.ToString('0.00') }) -join ' → ')"
        $readings[-1].Utilization | Should -BeGreaterThan $readings[0].Utilization
        $readings[-1].AnonymousBytes | Should -BeGreaterThan ($readings[0].AnonymousBytes + 100MB) -Because 'the leak is anonymous memory'
        $readings[-1].OomKills | Should -Be $killsBefore

        # The water-level alarm and the OOM alarm, from a live watch: after each reading the leak grows by 4 MiB more,
        # and the watch ends on its own when the kernel has killed the leaker (-Duration only bounds it).
        $rules = @(
            New-MemoryRule -Counter memory.limit.utilization -Maximum 0.85 -Name water-level
            New-MemoryRule -Counter memory.cgroup.oom_kill -Maximum $killsBefore -Name oom-kill
        )
        $watch = Get-ProcessMemory -ProcessId $go.ProcessId -Continuous -Interval 0.1 -Duration 120 -ErrorVariable ended -ErrorAction SilentlyContinue |
            ForEach-Object {
                if ($_.ProcessAlive) { try { $go.Process.StandardInput.WriteLine('grow 4'); $go.Process.StandardInput.Flush() } catch [System.IO.IOException] { } }   # killed meanwhile
                $_
            }
        $go.Process.WaitForExit(10000) | Should -BeTrue -Because 'the kernel kills the leaker at the limit'
        $go.Process.ExitCode | Should -Be 137 -Because 'SIGKILL (128 + 9): the OOM killer'
        $killsAfter = Get-CgroupOomKills $cgroup
        $killsAfter | Should -Be ($killsBefore + 1) -Because 'the kernel counted one OOM kill in the cgroup'

        $last = $watch[-1]
        $last.ProcessAlive | Should -BeFalse -Because 'the watch reads the cgroup once more when the process has gone'
        $last.ResidentBytes | Should -BeNullOrEmpty
        $last.OomKills | Should -Be $killsAfter
        ($watch | Where-Object ProcessAlive).Count | Should -BeGreaterThan 0
        ($watch.Utilization | Measure-Object -Maximum).Maximum | Should -BeGreaterThan 0.95 -Because 'the watch sees the last steps to the limit'
        ($watch | Where-Object ProcessAlive).Count | Should -BeGreaterThan 2
        $ended.Count | Should -Be 1
        $ended[0].FullyQualifiedErrorId | Should -BeLike 'TargetExited,*'
        $ended[0].Exception.Message | Should -Match 'OOM killer'

        Write-Host ("    utilization by step: {0}; watch: {1} readings, max {2:0.000}; oom_kill {3} -> {4}" -f (($readings.Utilization | ForEach-Object { $_.ToString('0.00') }) -join ' '),
            $watch.Count, ($watch.Utilization | Measure-Object -Maximum).Maximum, $killsBefore, $killsAfter)
        $verdict = $watch | Test-MemoryThreshold -Rule $rules
        ($verdict | Where-Object Rule -eq 'water-level').Passed | Should -BeFalse
        ($verdict | Where-Object Rule -eq 'oom-kill').Passed | Should -BeFalse
        ($verdict | Where-Object Rule -eq 'oom-kill').Observed | Should -Be $killsAfter

        # Another process of the same cgroup (a sidecar's view) sees the kill too, and the metrics say it.
        $side = Get-ProcessMemory -ProcessId $bystander.ProcessId
        $side.OomKills | Should -Be $killsAfter
        $side.ProcessAlive | Should -BeTrue
        $metrics = $side | ConvertTo-OpenMetrics
        $metrics | Should -Match "(?m)^memoryops_memory_cgroup_oom_kill\{[^}]*pid=""$($bystander.ProcessId)""[^}]*\} $killsAfter "
        $metrics | Should -Match '(?m)^memoryops_memory_limit_utilization_ratio\{'
        $bystander.Process.Kill()
        Remove-TestCgroup $cgroup
        Test-Path $cgroup.Directory | Should -BeFalse
    }

    It 'shows a .NET service''s GC share beside the kernel''s figures in its cgroup, and a utilization rule trips as it leaks' {
        $cgroup = New-TestCgroup -LimitBytes 400MB
        # Started inside the cgroup, so its GC sees the limit as a container's service does.
        $svc = Start-InCgroup $cgroup (Get-TestTargetPath)
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while (-not (Get-ChildItem ([IO.Path]::GetTempPath()) -Filter "dotnet-diagnostic-$($svc.ProcessId)-*-socket" -ErrorAction SilentlyContinue)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw 'TestTarget created no diagnostic socket.' }
            Start-Sleep -Milliseconds 50
        }
        $readings = [Collections.Generic.List[object]]::new()
        for ($step = 0; $step -lt 8; $step++) {
            Send-TestTarget $svc 'leak 300000' | Out-Null
            $readings.Add((Get-ProcessMemory -ProcessId $svc.ProcessId))
            if ($readings[-1].Utilization -ge 0.45) { break }
        }
        $readings[-1].Utilization | Should -BeGreaterOrEqual 0.45 -Because "utilization went $(($readings.Utilization | ForEach-Object { $_.ToString('0.00') }) -join ' → ')"
        $readings[-1].LimitBytes | Should -Be 400MB
        $readings[-1].CgroupPath | Should -Be $cgroup.Path

        # The GC's view, against what the service's own GC says (GC.GetTotalMemory after a full collection).
        $truth = [long]((Send-TestTarget $svc 'gc') -replace '^OK gc heap=', '')
        $m = Get-ProcessMemory -ProcessId $svc.ProcessId -IncludeGc
        $m.GcHeapBytes | Should -BeGreaterOrEqual ($truth * 0.95)
        $m.GcHeapBytes | Should -BeLessOrEqual ($truth * 1.05 + 2MB)
        $m.GcCommittedBytes | Should -BeGreaterOrEqual $m.GcHeapBytes
        $m.NonGcBytes | Should -Be ([math]::Max(0, $m.ResidentBytes - $m.GcCommittedBytes))
        $gcSample = $m | Get-ProcessMemory -AsSample -IncludeGc | Where-Object Name -eq 'memory.gc.committed'
        $gcSample.Value | Should -BeGreaterThan 0
        ($m | Format-Table | Out-String) | Should -Match ([regex]::Escape([MemoryOps.Display]::Bytes($m.GcCommittedBytes)))

        $verdict = @($readings) | Test-MemoryThreshold -Rule (New-MemoryRule -Counter memory.limit.utilization -Maximum 0.4 -Name water-level)
        $verdict.Passed | Should -BeFalse
        $verdict.Message | Should -Match 'memory.limit.utilization = \d'
        $svc | Stop-TestTarget
        Remove-TestCgroup $cgroup
    }

    It 'drops the GC figures of a target that stopped answering, rather than stamp old ones with a new time' {
        $t = Start-TestTarget
        try {
            $stoppedAt = $null
            $frozen = Get-ProcessMemory -ProcessId $t.ProcessId -IncludeGc -Continuous -Interval 1 -Duration 60 | ForEach-Object {
                # Freeze it once its GC view is there; the kernel's figures go on, the GC's must not.
                if ($null -eq $stoppedAt) {
                    if ($null -ne $_.GcCommittedBytes) { kill -STOP $t.ProcessId; $stoppedAt = [DateTime]::UtcNow }
                } elseif ($null -eq $_.GcCommittedBytes) { $_ }
            } | Select-Object -First 1
            $stoppedAt | Should -Not -BeNullOrEmpty -Because 'the GC view gave figures before the target was frozen'
            $frozen | Should -Not -BeNullOrEmpty -Because 'a reading without GC figures came within the window after the target was frozen'
            $frozen.GcHeapBytes | Should -BeNullOrEmpty
            $frozen.NonGcBytes | Should -BeNullOrEmpty
            $frozen.ResidentBytes | Should -BeGreaterThan 0
            $frozen.ProcessAlive | Should -BeTrue
        } finally { kill -CONT $t.ProcessId 2>$null; $t | Stop-TestTarget }
    }

    It 'holds a process in a cgroup without a limit to its parent cgroup''s limit' {
        if ($script:goProblem) { throw "The Go leaker could not be built: $script:goProblem" }
        $parent = New-TestCgroup -LimitBytes 96MB
        $child = New-ChildCgroup $parent
        $go = Start-InCgroup $child $script:goLeaker
        Send-TestTarget $go 'grow 32' | Out-Null
        $m = Get-ProcessMemory -ProcessId $go.ProcessId
        $parentUsage = [long](Read-CgroupFile $parent 'memory.usage_in_bytes' 'memory.current')
        $childLimit = Read-CgroupFile $child 'memory.limit_in_bytes' 'memory.max'
        $m.CgroupPath | Should -Be $child.Path
        $m.LimitBytes | Should -Be 96MB -Because "the child's own limit file says $childLimit (no limit)"
        $m.LimitCgroupPath | Should -Be $parent.Path
        $m.NoLimit | Should -BeFalse
        [math]::Abs($m.LimitUsageBytes - $parentUsage) | Should -BeLessOrEqual 1MB
        $m.Utilization | Should -BeGreaterThan 0.3
        Send-TestTarget $go 'exit' | Out-Null
        $go.Process.WaitForExit(5000) | Out-Null
        Remove-TestCgroup $child
        Remove-TestCgroup $parent
    }

    It 'gives -AsSample series a rule trips on with -For, and a baseline takes' {
        if ($script:goProblem) { throw "The Go leaker could not be built: $script:goProblem" }
        $cgroup = New-TestCgroup -LimitBytes 100MB
        $go = Start-InCgroup $cgroup $script:goLeaker
        Send-TestTarget $go 'grow 64' | Out-Null
        $samples = Get-ProcessMemory -ProcessId $go.ProcessId -AsSample -MaxSamples 4 -Interval 0.2
        $samples | Should -BeOfType ([MemoryOps.CounterSample])
        ($samples | Where-Object Name -eq 'memory.limit.utilization').Count | Should -Be 4
        $u = $samples | Where-Object Name -eq 'memory.limit.utilization' | Select-Object -Last 1
        $u.Unit | Should -Be 'fraction'
        $u.Value | Should -BeGreaterThan 0.6
        $u.Value | Should -BeLessThan 1
        ($samples | Where-Object Name -eq 'memory.cgroup.limit')[0].Value | Should -Be 100MB
        $span = ($samples[-1].Timestamp - $samples[0].Timestamp).TotalSeconds
        $result = $samples | Test-MemoryThreshold -Rule (New-MemoryRule -Counter memory.limit.utilization -Maximum 0.5 -For ($span * 0.5))
        $result.Passed | Should -BeFalse
        $result.Message | Should -Match 'sustained'
        $store = Join-Path $script:work 'baselines'
        $entry = $samples | Save-MemoryBaseline -Name procmem -Store $store -PassThru
        $entry | Should -Not -BeNullOrEmpty
        Send-TestTarget $go 'exit' | Out-Null
        $go.Process.WaitForExit(5000) | Out-Null
        Remove-TestCgroup $cgroup
    }
}

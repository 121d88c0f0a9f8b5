BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) "memoryops-hostile-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    New-Item -ItemType Directory $dir | Out-Null
    # The damaged copies are written to a tmpfs of our own: 200 x 72 MB never touches the disk.
    $script:shm = Join-Path $dir 'shm'
    New-Item -ItemType Directory $shm | Out-Null
    & mount -t tmpfs -o size=400m memoryops-fuzz $shm
    if ($LASTEXITCODE -ne 0) { throw "Could not mount a tmpfs at $shm (the test needs root)." }
    $script:mounted = $true
    $script:runtimeDir = Split-Path ([object].Assembly.Location)
    $script:target = Start-TestTarget
    $script:dump = New-MemoryDump -ProcessId $target.ProcessId -Path (Join-Path $dir 'target.dmp') -Type Heap

    function Invoke-ChildPwsh([string] $Script, [string[]] $Arguments, [int] $TimeoutSeconds, [string] $User, [int] $IdleSeconds = 0) {
        # A child process, so that a crash is a non-zero exit code this test sees, not the end of the test run.
        # With -IdleSeconds, a child that prints no line for that long is taken as hung (whatever the machine's load,
        # one step never takes that long), and -TimeoutSeconds bounds the whole run.
        $file = Join-Path $dir "child-$([guid]::NewGuid().ToString('N').Substring(0, 6)).ps1"
        Set-Content -LiteralPath $file -Value $Script
        $psi = [Diagnostics.ProcessStartInfo]::new('dotnet')
        foreach ($a in @('pwsh', '-NoProfile', '-NonInteractive', '-File', $file) + $Arguments) { $psi.ArgumentList.Add($a) }
        $psi.WorkingDirectory = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
        $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true; $psi.UseShellExecute = $false
        $process = [Diagnostics.Process]::Start($psi)
        $stderr = $process.StandardError.ReadToEndAsync()
        $lines = [Collections.Generic.List[string]]::new()
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
        $idle = if ($IdleSeconds -gt 0) { $IdleSeconds } else { $TimeoutSeconds }
        $next = $process.StandardOutput.ReadLineAsync()
        while ($true) {
            $wait = [Math]::Max(0, [Math]::Min($idle, ($deadline - [DateTime]::UtcNow).TotalSeconds))
            if (-not $next.Wait([TimeSpan]::FromSeconds($wait))) {
                $process.Kill($true); $process.WaitForExit()
                throw "The child pwsh printed nothing for $idle s or ran past $TimeoutSeconds s. Its output: $($lines -join "`n")"
            }
            if ($null -eq $next.Result) { break }
            $lines.Add($next.Result)
            $next = $process.StandardOutput.ReadLineAsync()
        }
        $process.WaitForExit()
        [pscustomobject]@{ ExitCode = $process.ExitCode; Out = $lines.ToArray(); Err = $stderr.Result }
    }
}

AfterAll {
    $script:target | Stop-TestTarget
    if ($script:pwshTarget -and -not $script:pwshTarget.HasExited) { $script:pwshTarget.Kill($true) }
    if ($script:mounted) { & umount $shm }
    Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Hostile dumps' {
    It 'survives 200 damaged copies of a Heap dump (byte flips, truncation, broken ELF notes and headers), each read or refused as InvalidData naming the file' {
        $seed = if ($env:MEMORYOPS_FUZZ_SEED) { [int]$env:MEMORYOPS_FUZZ_SEED } else { Get-Random -Minimum 1 -Maximum 1000000 }
        Write-Host "HostileDump fuzz: seed $seed (replay with MEMORYOPS_FUZZ_SEED=$seed)"
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $run = Invoke-ChildPwsh -Script (Get-Content -Raw (Join-Path $PSScriptRoot 'HostileDumpFuzz.ps1')) -TimeoutSeconds 3600 -IdleSeconds 300 -Arguments @(
            '-ModulePath', $env:MEMORYOPS_MODULE_PATH, '-DumpPath', $dump.Path, '-WorkFolder', $shm, '-Seed', $seed, '-Count', 200)
        # A copy that crashes the runtime's native DAC ends the reader process only (reported as InvalidData, "crashed the dump reader").
        $crashed = @($run.Out | Where-Object { $_ -match '^result \d+ InvalidData .*crashed the dump reader' }).Count
        Write-Host "HostileDump fuzz: $([int]$clock.Elapsed.TotalSeconds) s; $(($run.Out | Where-Object { $_ -like 'summary*' })); reader crashes: $crashed"
        $lastCase = $run.Out | Where-Object { $_ -like 'case *' } | Select-Object -Last 1
        $run.ExitCode | Should -Be 0 -Because "pwsh must survive every case (last case started: $lastCase; stderr: $($run.Err))"
        $results = @($run.Out | Where-Object { $_ -like 'result *' })
        $results | Should -HaveCount 200
        $results | Where-Object { $_ -match '^result \d+ BAD' } | Should -BeNullOrEmpty
        # Both ends are exercised: some copies are still readable (damage in unused bytes), most are refused.
        @($results | Where-Object { $_ -match '^result \d+ read$' }).Count | Should -BeGreaterThan 0
        @($results | Where-Object { $_ -match '^result \d+ InvalidData ' }).Count | Should -BeGreaterThan 50
        @($results | Where-Object { $_ -match 'is truncated' }).Count | Should -BeGreaterThan 0
    }

    It 'reads a Heap dump of a pwsh process with -LiveOnly and with Get-HeapRetention -RetainedSize (ClrMD reads module images from the local disk there)' {
        # A pwsh that stays up; its Heap dump lacks image pages the DAC needs, which ClrMD then asks its file locator for.
        $marker = "memoryops-hostile-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $psi = [Diagnostics.ProcessStartInfo]::new('dotnet')
        foreach ($a in 'pwsh', '-NoProfile', '-NonInteractive', '-c', "Start-Sleep 300 # $marker") { $psi.ArgumentList.Add($a) }
        $psi.WorkingDirectory = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
        $psi.UseShellExecute = $false; $psi.RedirectStandardOutput = $true
        $script:pwshTarget = [Diagnostics.Process]::Start($psi)
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        do {
            $pwshProcess = Get-DotNetProcess | Where-Object CommandLine -like "*$marker*" | Select-Object -First 1
            if (-not $pwshProcess) { Start-Sleep -Milliseconds 200 }
        } until ($pwshProcess -or [DateTime]::UtcNow -gt $deadline)
        $pwshProcess | Should -Not -BeNullOrEmpty -Because 'the pwsh target must be up within 60 s'
        $pwshDump = New-MemoryDump -ProcessId $pwshProcess.ProcessId -Path (Join-Path $dir 'pwsh.dmp') -Type Heap
        $script:pwshTarget.Kill($true)

        $run = Invoke-ChildPwsh -TimeoutSeconds 300 -Arguments @($env:MEMORYOPS_MODULE_PATH, $pwshDump.Path) -Script @'
param($module, $dump)
Import-Module $module
$live = New-HeapSnapshot -DumpPath $dump -LiveOnly -ErrorAction Stop
$all = New-HeapSnapshot -DumpPath $dump -ErrorAction Stop
$rows = @(Get-HeapRetention -DumpPath $dump -RetainedSize -Top 5 -ErrorAction Stop)
"live=$($live.ObjectCount) all=$($all.ObjectCount) rows=$($rows.Count) retained=$($rows[0].RetainedBytes)"
'@
        $run.ExitCode | Should -Be 0 -Because "stderr: $($run.Err)"
        $line = $run.Out | Where-Object { $_ -like 'live=*' }
        $line | Should -Match '^live=(\d+) all=(\d+) rows=5 retained=(\d+)'
        $null = $line -match '^live=(\d+) all=(\d+) rows=(\d+) retained=(\d+)'
        [long]$Matches[1] | Should -BeGreaterThan 1000
        [long]$Matches[1] | Should -BeLessOrEqual ([long]$Matches[2])
        [long]$Matches[4] | Should -BeGreaterThan 0
    }

    It 'refuses a DAC of another runtime build with UnsupportedVersion, naming the dump, both build ids and -RuntimePath' {
        # The .NET 8 runtime pack tests/MemoryOps.Tests/MemoryOps.Tests.csproj downloads holds a whole other runtime: libcoreclr.so and its DAC.
        # A pack of the very runtime installed here (10.0.12 may be restored too) has the same build: take another one.
        function Get-BuildId([string] $Folder) { (& readelf -n (Join-Path $Folder 'libcoreclr.so') | Select-String 'Build ID: (\w+)').Matches[0].Groups[1].Value }
        $dumpId = Get-BuildId $runtimeDir
        $otherRuntime = Get-ChildItem (Join-Path $HOME '.nuget/packages/microsoft.netcore.app.runtime.linux-x64') -Directory |
            ForEach-Object { Join-Path $_.FullName 'runtimes/linux-x64/native' } | Where-Object { (Test-Path (Join-Path $_ 'libmscordaccore.so')) -and (Get-BuildId $_) -ne $dumpId } | Select-Object -First 1
        $otherRuntime | Should -Not -BeNullOrEmpty -Because 'tests/MemoryOps.Tests/MemoryOps.Tests.csproj downloads the Microsoft.NETCore.App.Runtime.linux-x64 package of another runtime (8.0.34)'
        $otherRuntime | Should -Not -Be $runtimeDir
        $otherId = Get-BuildId $otherRuntime
        $dumpId | Should -Not -Be $otherId

        New-HeapSnapshot -DumpPath $dump.Path -RuntimePath $otherRuntime -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'UnsupportedVersion,*'
        $err[0].TargetObject | Should -Be $dump.Path
        $message = $err[0].Exception.Message
        $message | Should -BeLike "*'$($dump.Path)'*"
        $message | Should -BeLike "*runtime $(Split-Path $runtimeDir -Leaf)*"
        $message | Should -BeLike "*$dumpId*"
        $message | Should -BeLike "*$otherId*"
        $message | Should -BeLike '*-RuntimePath*'

        Get-HeapRetention -DumpPath $dump.Path -RuntimePath $otherRuntime -ErrorVariable err2 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err2[0].FullyQualifiedErrorId | Should -BeLike 'UnsupportedVersion,*'

        # The right DAC given by its folder reads the dump as the default does.
        (New-HeapSnapshot -DumpPath $dump.Path -RuntimePath $runtimeDir).ObjectCount | Should -Be (New-HeapSnapshot -DumpPath $dump.Path).ObjectCount
    }

    It 'refuses a DAC that cannot be checked (no libcoreclr.so beside it), even the right one' {
        $lone = New-Item -ItemType Directory (Join-Path $dir 'lone-dac')
        Copy-Item (Join-Path $runtimeDir 'libmscordaccore.so') $lone
        New-HeapSnapshot -DumpPath $dump.Path -RuntimePath (Join-Path $lone 'libmscordaccore.so') -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'UnsupportedVersion,*'
        $err[0].Exception.Message | Should -BeLike '*no readable libcoreclr.so beside it*'
        # With the runtime beside it, the very same copy of the DAC is accepted.
        Copy-Item (Join-Path $runtimeDir 'libcoreclr.so') $lone
        (New-HeapSnapshot -DumpPath $dump.Path -RuntimePath $lone).ObjectCount | Should -BeGreaterThan 0
    }

    It 'never opens a FIFO that the dump names as a module, and still reads the dump' {
        # The dump's NT_FILE note names TestTarget.dll; a copy names a FIFO of the same length instead. Opening a FIFO
        # for reading blocks until someone writes, so a reader that opened it would hang here.
        $bytes = [IO.File]::ReadAllBytes($dump.Path)
        $module = Join-Path (Split-Path (Get-TestTargetPath)) 'TestTarget.dll'
        $old = [Text.Encoding]::UTF8.GetBytes($module)
        $fifoDir = New-Item -ItemType Directory (Join-Path $dir 'f')
        $fifo = Join-Path $fifoDir (('x' * ($old.Length - $fifoDir.FullName.Length - 5)) + '.dll')
        $fifo.Length | Should -Be $old.Length
        & mkfifo $fifo
        $LASTEXITCODE | Should -Be 0
        $new = [Text.Encoding]::UTF8.GetBytes($fifo)
        # Latin-1 maps each byte to one char, so string search finds byte offsets (a byte loop in PowerShell takes a minute).
        $text = [Text.Encoding]::Latin1.GetString($bytes)
        $replaced = 0
        for ($at = $text.IndexOf($module, [StringComparison]::Ordinal); $at -ge 0; $at = $text.IndexOf($module, $at + 1, [StringComparison]::Ordinal)) {
            [Array]::Copy($new, 0, $bytes, $at, $new.Length); $replaced++
        }
        $replaced | Should -BeGreaterThan 0 -Because 'the dump names TestTarget.dll in its notes'
        $fifoDump = Join-Path $dir 'fifo.dmp'
        [IO.File]::WriteAllBytes($fifoDump, $bytes)

        $run = Invoke-ChildPwsh -TimeoutSeconds 120 -Arguments @($env:MEMORYOPS_MODULE_PATH, $fifoDump) -Script @'
param($module, $dump)
Import-Module $module
$s = New-HeapSnapshot -DumpPath $dump -ErrorAction Stop
$rows = @(Get-HeapRetention -DumpPath $dump -Top 3 -ErrorAction Stop)
"objects=$($s.ObjectCount) rows=$($rows.Count)"
'@
        $run.ExitCode | Should -Be 0 -Because "stderr: $($run.Err)"
        ($run.Out | Where-Object { $_ -like 'objects=*' }) | Should -Match '^objects=[1-9]\d* rows=[1-9]'
    }
}

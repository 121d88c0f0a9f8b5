<#
    Files another local user may plant (docs/reliability.md, "Hostile input"): FIFOs and devices at input and output
    paths, links and hard links in the baseline store, files that expand to gigabytes, temporary files left by a
    killed writer, a relative store path, a umask of 000. Needs root (mknod, chown, /etc/shadow): fails without it.
    Every read that could hang runs in a child pwsh with a time limit, so a regression fails instead of hanging the
    suite; the memory cases read the child's peak RSS (VmHWM).
#>
BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force
    $script:repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path

    function Invoke-Native {
        <# Runs a command that must succeed (mkfifo, mknod, truncate, chown: root). #>
        param([Parameter(Mandatory)] [string] $File, [Parameter(ValueFromRemainingArguments)] [string[]] $Arguments)
        $out = & $File @Arguments 2>&1
        if ($LASTEXITCODE -ne 0) { throw "$File $Arguments failed (this test needs root): $out" }
    }

    # This same PowerShell, run by the dotnet host in one process (`dotnet pwsh` would start the tool as a child
    # of the CLI, and a kill -9 of the CLI would miss it).
    $script:pwshDll = Join-Path (Split-Path ([psobject].Assembly.Location)) 'pwsh.dll'

    function Start-ChildPwsh {
        <# Starts a pwsh (PID = the returned Process) running $Script with the module imported; $Prefix runs in bash first. #>
        param([Parameter(Mandatory)] [string] $Script, [string] $Prefix = '')
        $file = Join-Path $TestDrive "child-$([guid]::NewGuid().ToString('N')).ps1"
        Set-Content $file ("Import-Module '$env:MEMORYOPS_MODULE_PATH'`n" + $Script)
        $psi = [System.Diagnostics.ProcessStartInfo]::new('bash')
        $psi.ArgumentList.Add('-c')
        $psi.ArgumentList.Add("$Prefix exec dotnet '$script:pwshDll' -NoProfile -NonInteractive -File '$file'")
        $psi.WorkingDirectory = $script:repoRoot
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.RedirectStandardInput = $true
        $psi.UseShellExecute = $false
        $p = [System.Diagnostics.Process]::Start($psi)
        $p.StandardInput.Close()
        [pscustomobject]@{ Process = $p; Out = $p.StandardOutput.ReadToEndAsync(); Err = $p.StandardError.ReadToEndAsync() }
    }

    function Wait-ChildPwsh {
        <# Waits (bounded) for a child; kills it and throws when it does not end. Returns its output lines. #>
        param([Parameter(Mandatory)] $Child, [int] $TimeoutSeconds = 180)
        if (-not $Child.Process.WaitForExit($TimeoutSeconds * 1000)) {
            $Child.Process.Kill($true)
            throw "the child pwsh did not end within $TimeoutSeconds s (a read that waits forever?)"
        }
        $Child.Process.WaitForExit()
        $out = $Child.Out.Result -split "`n" | ForEach-Object TrimEnd | Where-Object { $_ }
        if ($Child.Process.ExitCode -ne 0) { throw "the child pwsh failed ($($Child.Process.ExitCode)): $($Child.Err.Result) $out" }
        $out
    }

    function Invoke-ChildPwsh {
        param([Parameter(Mandatory)] [string] $Script, [int] $TimeoutSeconds = 180, [string] $Prefix = '')
        Wait-ChildPwsh (Start-ChildPwsh $Script -Prefix $Prefix) -TimeoutSeconds $TimeoutSeconds
    }

    # The child reports each case as "case|ErrorId|Category|outputs" and, last, its peak RSS.
    $script:reportCase = @'
function Report([string] $Case, [scriptblock] $Do) {
    $all = @(& $Do 2>&1)
    $errors = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
    $out = @($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
    $first = $errors[0]
    "$Case|$($first.FullyQualifiedErrorId -replace ',.*$')|$($first.CategoryInfo.Category)|$($out.Count)|$($first.Exception.Message)"
}
'@
    $script:reportPeak = '"VmHWM|" + ((Get-Content /proc/$PID/status | Where-Object { $_ -like "VmHWM:*" }) -replace "\D", "")'

    function ConvertFrom-Report {
        param([string[]] $Lines)
        $cases = @{}
        foreach ($line in $Lines) {
            $f = $line -split '\|', 5
            if ($f[0] -eq 'VmHWM') { $cases['VmHWM'] = [long]$f[1] * 1KB; continue }
            $cases[$f[0]] = [pscustomobject]@{ ErrorId = $f[1]; Category = $f[2]; Outputs = [int]$f[3]; Message = $f[4] }
        }
        $cases
    }

    function Get-FileType { param([string] $Path) (stat -c '%F' $Path) }

    function Write-GzipBomb {
        <# A small gzip file that expands to $Times copies of $Repeated between $Head and $Tail. #>
        param([string] $Path, [string] $Head, [byte] $Fill, [long] $Megabytes, [string] $Tail)
        $file = [IO.File]::Create($Path)
        $gz = [IO.Compression.GZipStream]::new($file, [IO.Compression.CompressionLevel]::Optimal)
        $bytes = [Text.Encoding]::UTF8.GetBytes($Head); $gz.Write($bytes, 0, $bytes.Length)
        $chunk = [byte[]]::new(1MB); [Array]::Fill($chunk, $Fill)
        for ($i = 0; $i -lt $Megabytes; $i++) { $gz.Write($chunk, 0, $chunk.Length) }
        $bytes = [Text.Encoding]::UTF8.GetBytes($Tail); $gz.Write($bytes, 0, $bytes.Length)
        $gz.Dispose(); $file.Dispose()
    }

    function Get-DeadPid {
        <# A PID that just exited (its writer is surely gone). #>
        $p = Start-Process true -PassThru
        $p.WaitForExit()
        $p.Id
    }

    $script:target = Start-TestTarget
    Send-TestTarget $target 'leak 2000' | Out-Null
    $script:snapshot = New-HeapSnapshot -ProcessId $target.ProcessId
}

AfterAll {
    $script:target | Stop-TestTarget
}

Describe 'An output path that is not a regular file' {
    BeforeAll {
        $script:out = Join-Path $TestDrive 'out'
        New-Item -ItemType Directory $out | Out-Null
        # A copy of /dev/null (char 1,3) in the test folder: /dev/null itself is never touched.
        Invoke-Native mknod (Join-Path $out 'null') c 1 3
        Invoke-Native mkfifo (Join-Path $out 'pipe')
    }

    It 'is refused with -Force by <Name> when it is a <Kind>, and stays what it was' -ForEach @(
        @{ Name = 'New-MemoryDump'; Kind = 'character device'; Leaf = 'null'; Type = 'character special file' }
        @{ Name = 'New-MemoryDump'; Kind = 'FIFO'; Leaf = 'pipe'; Type = 'fifo' }
        @{ Name = 'Export-HeapSnapshot'; Kind = 'character device'; Leaf = 'null'; Type = 'character special file' }
        @{ Name = 'Export-HeapSnapshot'; Kind = 'FIFO'; Leaf = 'pipe'; Type = 'fifo' }
    ) {
        $path = Join-Path $out $Leaf
        $written = if ($Name -eq 'New-MemoryDump') {
            New-MemoryDump -ProcessId $target.ProcessId -Type Triage -Path $path -Force -ErrorVariable err -ErrorAction SilentlyContinue
        } else {
            $snapshot | Export-HeapSnapshot -Path $path -Force -ErrorVariable err -ErrorAction SilentlyContinue
        }
        $written | Should -BeNullOrEmpty
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'UnsafeFile,*'
        $err[0].CategoryInfo.Category | Should -Be 'SecurityError'
        $err[0].Exception.Message | Should -BeLike "*$path*not a regular file*even with -Force*"
        Get-FileType $path | Should -Be $Type
        Get-ChildItem $out -Force -Filter '*.tmp' | Should -BeNullOrEmpty
    }

    It 'replaces a symbolic link to a device as a link, leaving the device alone (the documented rule for links)' {
        $link = Join-Path $out 'link-to-null'
        New-Item -ItemType SymbolicLink -Path $link -Target (Join-Path $out 'null') | Out-Null
        $snapshot | Export-HeapSnapshot -Path $link -Force
        Get-FileType $link | Should -Be 'regular file'
        Get-FileType (Join-Path $out 'null') | Should -Be 'character special file'
        (Import-HeapSnapshot $link).Types.Count | Should -Be $snapshot.Types.Count
    }
}

Describe 'An input that never ends' {
    It 'is refused at once, by type, for snapshots, dumps, policies and baselines; the other inputs are read' {
        $in = Join-Path $TestDrive 'in'
        New-Item -ItemType Directory $in | Out-Null
        foreach ($name in 'snap.json', 'dump.dmp', 'policy.json', 'policy.psd1') { Invoke-Native mkfifo (Join-Path $in $name) }
        Invoke-Native mknod (Join-Path $in 'zero.json') c 1 5   # a /dev/zero
        Invoke-Native mknod (Join-Path $in 'zero.dmp') c 1 5
        $store = Join-Path $in 'store'
        $snapshot | Save-MemoryBaseline -Name good -Store $store
        Invoke-Native mkfifo (Join-Path $store 'trap.baseline.json.gz')
        $good = Join-Path $in 'good.json'
        $snapshot | Export-HeapSnapshot -Path $good

        $lines = Invoke-ChildPwsh -TimeoutSeconds 120 -Script ($reportCase + @"
Report fifo-snapshot { Import-HeapSnapshot '$in/snap.json', '$good' }
Report zero-snapshot { Import-HeapSnapshot '$in/zero.json' }
Report fifo-dump { New-HeapSnapshot -DumpPath '$in/dump.dmp' }
Report zero-dump { New-HeapSnapshot -DumpPath '$in/zero.dmp' }
Report fifo-policy-json { Import-MemoryPolicy '$in/policy.json' }
Report fifo-policy-psd1 { Import-MemoryPolicy '$in/policy.psd1' }
Report fifo-baseline { Get-MemoryBaseline -Store '$store' }
Report fifo-baseline-stats { Get-MemoryBaseline -Store '$store' -Name trap -Statistics }
"@ + "`n" + $reportPeak)
        $cases = ConvertFrom-Report $lines
        foreach ($case in 'fifo-snapshot', 'zero-snapshot', 'fifo-dump', 'zero-dump', 'fifo-policy-json', 'fifo-policy-psd1', 'fifo-baseline', 'fifo-baseline-stats') {
            $cases[$case].ErrorId | Should -Be 'UnsafeFile' -Because $case
            $cases[$case].Category | Should -Be 'SecurityError' -Because $case
            $cases[$case].Message | Should -Match 'is a (named pipe \(FIFO\)|character device), not a regular file' -Because $case
        }
        $cases['fifo-snapshot'].Outputs | Should -Be 1 -Because 'the good snapshot after the FIFO is read'
        $cases['fifo-baseline'].Outputs | Should -Be 1 -Because 'the good baseline beside the FIFO is read'
        Get-FileType (Join-Path $store 'trap.baseline.json.gz') | Should -Be 'fifo'
    }
}

Describe 'Links and lock files planted in the baseline store' {
    BeforeEach {
        $script:store = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory $store | Out-Null
    }

    It 'never follows a planted lock link (root would create its target), and saves nothing' {
        $target = Join-Path $TestDrive "created-by-root-$([guid]::NewGuid().ToString('N'))"
        New-Item -ItemType SymbolicLink -Path (Join-Path $store 'orders.baseline.lock') -Target $target | Out-Null
        $err = $null
        try { $snapshot | Save-MemoryBaseline -Name orders -Store $store } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'UnsafeFile,*'
        $err.Exception.Message | Should -BeLike '*lock file*symbolic link*not followed*'
        Test-Path $target | Should -BeFalse
        Test-Path (Join-Path $store 'orders.baseline.json.gz') | Should -BeFalse
    }

    It 'refuses a lock file that another user owns' {
        $lock = Join-Path $store 'orders.baseline.lock'
        Set-Content $lock ''
        Invoke-Native chown 65534 $lock
        { $snapshot | Save-MemoryBaseline -Name orders -Store $store } | Should -Throw '*belongs to another user*'
    }

    It 'refuses a baseline file that is a link, even to a valid baseline (<Name>)' -ForEach @(
        @{ Name = 'a valid baseline elsewhere' }
        @{ Name = '/etc/shadow' }
    ) {
        $victim = if ($Name -eq '/etc/shadow') { '/etc/shadow' } else {
            $elsewhere = Join-Path $TestDrive "elsewhere-$([guid]::NewGuid().ToString('N'))"
            $snapshot | Save-MemoryBaseline -Name real -Store $elsewhere
            Join-Path $elsewhere 'real.baseline.json.gz'
        }
        $before = (Get-FileHash $victim).Hash
        New-Item -ItemType SymbolicLink -Path (Join-Path $store 'linked.baseline.json.gz') -Target $victim | Out-Null
        Get-MemoryBaseline -Name linked -Store $store -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'UnsafeFile,*'
        $err[0].Exception.Message | Should -BeLike '*cannot be read: it is a symbolic link*'
        { $snapshot | Save-MemoryBaseline -Name linked -Store $store } | Should -Throw '*symbolic link*'
        (Get-FileHash $victim).Hash | Should -Be $before
        (Get-Item (Join-Path $store 'linked.baseline.json.gz') -Force).LinkType | Should -Be 'SymbolicLink' -Because 'the link was left as it is'
    }
}

Describe 'Input size limits' {
    BeforeAll {
        $script:bombs = Join-Path $TestDrive 'bombs'
        New-Item -ItemType Directory $bombs | Out-Null
        $head = '{"format":"MemoryOps.HeapSnapshot","version":1,"source":"Process","processId":1,"processName":"x","timestamp":"2026-01-01T00:00:00Z","runtimeVersion":"10","liveOnly":false,"totalBytes":1,"objectCount":1,"types":['
        # The issue's reports: a ~3 MB gzip snapshot that expands to 3 GB, a ~1 MB one holding a billion-character
        # type name, a 100 GB sparse file and a /dev/zero as snapshots, and a small gzip baseline of 4 M type rows.
        Write-GzipBomb (Join-Path $bombs 'expands.json.gz') -Head $head -Fill 32 -Megabytes 3072 -Tail ']}'
        Write-GzipBomb (Join-Path $bombs 'name.json.gz') -Head ($head + '{"typeName":"') -Fill 65 -Megabytes 1000 -Tail '","count":1,"totalBytes":1}]}'
        Invoke-Native truncate -s 100G (Join-Path $bombs 'sparse.json')
        Invoke-Native mknod (Join-Path $bombs 'zero.json') c 1 5
        $store = Join-Path $bombs 'store'
        New-Item -ItemType Directory $store | Out-Null
        # 20,000 entries of the same 200 types (10 KB each, within gzip's 32 KB window, so it compresses well): 4 M rows.
        $types = (0..199 | ForEach-Object { "{`"typeName`":`"Type$_`",`"count`":$_,`"totalBytes`":$($_ * 24)}" }) -join ','
        $entry = "{`"timestamp`":`"2026-01-01T00:00:00Z`",`"kind`":`"Snapshot`",`"metrics`":{`"TotalBytes`":1},`"snapshot`":$($head -replace '\[$', '')[$types]}}"
        $file = [IO.File]::Create((Join-Path $store 'history.baseline.json.gz'))
        $gz = [IO.Compression.GZipStream]::new($file, [IO.Compression.CompressionLevel]::Optimal)
        $w = [IO.StreamWriter]::new($gz)
        $w.Write('{"format":"MemoryOps.Baseline","version":1,"name":"history","entries":[')
        for ($i = 0; $i -lt 20000; $i++) { if ($i) { $w.Write(',') }; $w.Write($entry) }
        $w.Write(']}')
        $w.Dispose(); $file.Dispose()
        $script:sizes = Get-ChildItem $bombs -Recurse -File | ForEach-Object { "$($_.Name) $([math]::Round($_.Length / 1MB, 2)) MB" }
    }

    It 'refuses each at the first limit it crosses, naming the limit and -MaximumInputSize, in bounded memory' {
        Write-Host "    bombs: $($sizes -join '; ')"
        $lines = Invoke-ChildPwsh -TimeoutSeconds 300 -Script ($reportCase + @"
Report expands { Import-HeapSnapshot '$bombs/expands.json.gz' }
Report name { Import-HeapSnapshot '$bombs/name.json.gz' }
Report sparse { Import-HeapSnapshot '$bombs/sparse.json' }
Report zero { Import-HeapSnapshot '$bombs/zero.json' }
Report statistics { Get-MemoryBaseline -Store '$bombs/store' -Name history -Statistics }
"@ + "`n" + $reportPeak)
        $cases = ConvertFrom-Report $lines
        foreach ($case in 'expands', 'name', 'sparse', 'statistics') {
            $cases[$case].ErrorId | Should -Be 'InputTooLarge' -Because $case
            $cases[$case].Category | Should -Be 'LimitsExceeded' -Because $case
            $cases[$case].Message | Should -BeLike '*raise the limit with -MaximumInputSize*' -Because $case
        }
        $cases['expands'].Message | Should -BeLike '*decompresses to more than the limit of 64 MB*'
        $cases['name'].Message | Should -BeLike '*a string, name or number of more than 16,384 characters*'
        $cases['sparse'].Message | Should -BeLike '*it holds 100 GB*'
        $cases['statistics'].Message | Should -BeLike '*more than 8,388,608 JSON values*'
        $cases['zero'].ErrorId | Should -Be 'UnsafeFile'
        Write-Host ("    peak RSS of the child pwsh: {0:N0} MB" -f ($cases['VmHWM'] / 1MB))
        # Before the limits, the first of these alone drove a pwsh to 4.3 GB and the last to 6.4 GB.
        $cases['VmHWM'] | Should -BeLessThan 768MB
    }

    It 'reads a genuine file once -MaximumInputSize is raised' {
        $file = Join-Path $TestDrive 'genuine.json'
        $snapshot | Export-HeapSnapshot -Path $file
        (Get-Item $file).Length | Should -BeGreaterThan 4KB
        Import-HeapSnapshot $file -MaximumInputSize 4KB -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InputTooLarge,*'
        $err[0].Exception.Message | Should -BeLike '*(now 4KB; e.g. -MaximumInputSize 16KB)*'
        (Import-HeapSnapshot $file -MaximumInputSize 64MB).Types.Count | Should -Be $snapshot.Types.Count

        $store = Join-Path $TestDrive 'genuine-store'
        $snapshot | Save-MemoryBaseline -Name b -Store $store
        Get-MemoryBaseline -Name b -Store $store -MaximumInputSize 1KB -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InputTooLarge,*'
        { $snapshot | Save-MemoryBaseline -Name b -Store $store -MaximumInputSize 1KB } | Should -Throw '*-MaximumInputSize*'
        (Get-MemoryBaseline -Name b -Store $store -History) | Should -HaveCount 1 -Because 'nothing was appended to a history that was not read'
    }

    It 'bounds policy files too (4 MB by default)' {
        $policy = Join-Path $TestDrive 'big.psd1'
        Set-Content $policy ("@{ Rules = @( @{ Counter = 'gc-heap-size'; Maximum = 512MB } ) }`n#" + ('x' * 5MB))
        Import-MemoryPolicy $policy -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InputTooLarge,*'
        (Import-MemoryPolicy $policy -MaximumInputSize 8MB).Counter | Should -Be 'gc-heap-size'
    }
}

Describe 'Temporary files left by a killed writer' {
    It 'a kill -9 of a pwsh writing a dump leaves its temporary file; the next write to that folder removes it, and only it' {
        $big = Start-TestTarget
        try {
            Send-TestTarget $big 'leak 1500000' | Out-Null
            $folder = Join-Path $TestDrive 'dumps'
            New-Item -ItemType Directory $folder | Out-Null
            $writer = Start-ChildPwsh "New-MemoryDump -ProcessId $($big.ProcessId) -Type Full -Path '$folder'"
            # Drive to the precondition: the dump's temporary file exists (the child has started writing it).
            $deadline = [DateTime]::UtcNow.AddSeconds(90)
            while (-not ($temp = Get-ChildItem $folder -Force -Filter '.*.memoryops-*.tmp') -and [DateTime]::UtcNow -lt $deadline -and -not $writer.Process.HasExited) { Start-Sleep -Milliseconds 20 }
            $temp | Should -Not -BeNullOrEmpty -Because 'the writer creates its temporary file first'
            Invoke-Native kill -9 $writer.Process.Id
            $writer.Process.WaitForExit(10000) | Should -BeTrue
            $temp.Name | Should -Match "\.memoryops-$($writer.Process.Id)-\d+-[0-9a-f]{8}\.tmp$" -Because 'the name carries its writer'
            # createdump in the target finishes the file nobody will rename: wait until it stops growing.
            $size = -1
            $deadline = [DateTime]::UtcNow.AddSeconds(120)
            while ($size -ne ($now = (Get-Item -Force $temp.FullName).Length) -and [DateTime]::UtcNow -lt $deadline) { $size = $now; Start-Sleep -Milliseconds 1000 }
            Write-Host ("    left behind: {0} ({1:N0} MB)" -f $temp.Name, ($size / 1MB))
            $size | Should -BeGreaterThan 10MB
            Get-ChildItem $folder -Force -Filter '*.dmp' | Should -BeNullOrEmpty

            # Beside it: a temporary file of a live writer (this process), one of another naming, one of ours whose
            # PID now belongs to another process (PID 1, started at another time).
            $start = ((Get-Content "/proc/$PID/stat") -replace '^.*\) ', '' -split ' ')[19]
            $live = Join-Path $folder ".x.dmp.memoryops-$PID-$start-0badcafe.tmp"
            $foreign = Join-Path $folder '.x.dmp.0badcafe.tmp'
            $reused = Join-Path $folder '.y.dmp.memoryops-1-1-0badcafe.tmp'
            foreach ($f in $live, $foreign, $reused) { Set-Content $f 'partial' }

            $info = New-MemoryDump -ProcessId $target.ProcessId -Type Triage -Path $folder
            Test-Path $temp.FullName | Should -BeFalse -Because 'its writer is dead'
            Test-Path $reused | Should -BeFalse -Because 'PID 1 did not start when that file was named'
            Test-Path $live | Should -BeTrue -Because 'its writer (this process) still runs'
            Test-Path $foreign | Should -BeTrue -Because 'only files of our exact naming are ours'
            Test-Path $info.Path | Should -BeTrue
        } finally { $big | Stop-TestTarget }
    }

    It 'applies to every atomic write: <Name>' -ForEach @(
        @{ Name = 'Save-MemoryBaseline'; Leaf = 'orders.baseline.json.gz'; Write = { param($folder, $s) $s | Save-MemoryBaseline -Name orders -Store $folder } }
        @{ Name = 'Export-HeapSnapshot'; Leaf = 'snap.json.gz'; Write = { param($folder, $s) $s | Export-HeapSnapshot -Path (Join-Path $folder 'snap.json.gz') } }
    ) {
        $folder = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory $folder | Out-Null
        $stale = Join-Path $folder ".$Leaf.memoryops-$(Get-DeadPid)-4242-deadbeef.tmp"
        Set-Content $stale 'left by kill -9'
        & $Write $folder $snapshot
        Test-Path $stale | Should -BeFalse
    }
}

Describe 'Where the store is, and the folders it makes' {
    It 'resolves a relative MEMORYOPS_BASELINE_STORE against the current location, not the process working folder' {
        $location = Join-Path $TestDrive 'location'
        $processCwd = Join-Path $TestDrive 'process-cwd'
        New-Item -ItemType Directory $location, $processCwd | Out-Null
        $savedStore = $env:MEMORYOPS_BASELINE_STORE
        $savedCwd = [Environment]::CurrentDirectory
        Push-Location $location
        try {
            [Environment]::CurrentDirectory = $processCwd
            $env:MEMORYOPS_BASELINE_STORE = 'relative/store'
            $snapshot | Save-MemoryBaseline -Name rel
            Test-Path (Join-Path $location 'relative/store/rel.baseline.json.gz') | Should -BeTrue
            Test-Path (Join-Path $processCwd 'relative') | Should -BeFalse
            (Get-MemoryBaseline -Name rel).Snapshot.Types.Count | Should -Be $snapshot.Types.Count
            foreach ($line in 'Get-MemoryBaseline -Name re', "Get-MemoryBaseline -Store 'relative/store' -Name re") {
                (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('rel') -Because "$line completes from the same store"
            }
            $rule = New-MemoryRule -Baseline rel -Counter TotalBytes -MaxDeviationPercent 50 -Name drift
            ($snapshot | Test-MemoryThreshold -Rule $rule).Passed | Should -BeTrue
            # A rule's own relative Store resolves the same way.
            $env:MEMORYOPS_BASELINE_STORE = $null
            $rule = New-MemoryRule -Baseline rel -Store 'relative/store' -Counter TotalBytes -MaxDeviationPercent 50 -Name drift
            ($snapshot | Test-MemoryThreshold -Rule $rule).Passed | Should -BeTrue
        } finally {
            Pop-Location
            $env:MEMORYOPS_BASELINE_STORE = $savedStore
            [Environment]::CurrentDirectory = $savedCwd
        }
    }

    It 'creates every folder of a new store owner-only, even under umask 000' {
        $root = Join-Path $TestDrive 'umask'
        New-Item -ItemType Directory $root | Out-Null
        $store = Join-Path $root 'a/b/store'
        Invoke-ChildPwsh -Prefix 'umask 000;' -Script "[MemoryOps.HeapSnapshot]@{ Source = 'Process'; TotalBytes = 1; Timestamp = [datetime]::UtcNow } | Save-MemoryBaseline -Name x -Store '$store'; sh -c umask" |
            Select-Object -Last 1 | Should -Be '0000' -Because 'the child ran under umask 000'
        foreach ($dir in (Join-Path $root 'a'), (Join-Path $root 'a/b'), $store) { (Get-Item $dir).UnixMode | Should -Be 'drwx------' -Because $dir }
        (Get-Item (Join-Path $store 'x.baseline.json.gz')).UnixMode | Should -Be '-rw-------'
    }
}

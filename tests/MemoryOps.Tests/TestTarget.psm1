# Drives tests/TestTarget (the "order service" with known allocations) for the Pester suites.
$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path

function Get-TestTargetPath {
    foreach ($config in 'Release', 'Debug') {
        $exe = Join-Path $script:RepoRoot "tests/TestTarget/bin/$config/net10.0/TestTarget"
        if (Test-Path $exe) { return $exe }
    }
    throw 'TestTarget is not built: run ./build.ps1 -Task Build first.'
}

function Start-TestTarget {
    <# Starts a TestTarget and waits for its READY line. Returns an object with ProcessId and Process. #>
    [CmdletBinding()]
    param([hashtable] $Environment = @{}, [string[]] $ArgumentList = @())
    $psi = [System.Diagnostics.ProcessStartInfo]::new((Get-TestTargetPath))
    foreach ($a in $ArgumentList) { $psi.ArgumentList.Add($a) }   # TestTarget ignores them; they show in its command line
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.UseShellExecute = $false
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = $Environment[$k] }
    $process = [System.Diagnostics.Process]::Start($psi)
    $target = [pscustomobject]@{ PSTypeName = 'TestTarget'; ProcessId = $process.Id; Process = $process }
    $line = Read-TestTargetLine $target -TimeoutSeconds 30
    if ($line -notmatch '^READY pid=(\d+)') { throw "TestTarget did not start: '$line'" }
    # The diagnostic socket is created during runtime start-up; wait until it answers.
    $deadline = [DateTime]::UtcNow.AddSeconds(10)
    $socketDir = if ($Environment['TMPDIR']) { $Environment['TMPDIR'] } else { [IO.Path]::GetTempPath() }
    while (-not (Get-ChildItem $socketDir -Filter "dotnet-diagnostic-$($process.Id)-*-socket" -ErrorAction SilentlyContinue)) {
        if ([DateTime]::UtcNow -gt $deadline) { throw 'TestTarget created no diagnostic socket.' }
        Start-Sleep -Milliseconds 50
    }
    $target
}

function Read-TestTargetLine {
    param([Parameter(Mandatory)] $Target, [int] $TimeoutSeconds = 120)
    $task = $Target.Process.StandardOutput.ReadLineAsync()
    if (-not $task.Wait([TimeSpan]::FromSeconds($TimeoutSeconds))) { throw "TestTarget $($Target.ProcessId) did not answer within $TimeoutSeconds s." }
    $task.Result
}

function Send-TestTarget {
    <# Sends one command and returns its answer line (OK ...). Other output (e.g. createdump's) is skipped. #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Target, [Parameter(Mandatory)] [string] $Command, [int] $TimeoutSeconds = 120)
    $Target.Process.StandardInput.WriteLine($Command)
    $Target.Process.StandardInput.Flush()
    while ($true) {
        $line = Read-TestTargetLine $Target -TimeoutSeconds $TimeoutSeconds
        if ($null -eq $line) { throw "TestTarget $($Target.ProcessId) exited while running '$Command'." }
        if ($line -like 'OK*') { return $line }
        if ($line -like 'ERR*') { throw "TestTarget refused '$Command': $line" }
    }
}

function Stop-TestTarget {
    [CmdletBinding()]
    param([Parameter(ValueFromPipeline)] $Target)
    process {
        if ($null -eq $Target -or $Target.Stopped) { return }
        $Target | Add-Member -NotePropertyName Stopped -NotePropertyValue $true -Force   # stopping twice is not an error
        if ($Target.Process.HasExited) { return }
        try { $Target.Process.StandardInput.WriteLine('exit'); $Target.Process.StandardInput.Flush() } catch { }
        if (-not $Target.Process.WaitForExit(5000)) { $Target.Process.Kill($true) }
        $Target.Process.Dispose()
    }
}

function Wait-TestTargetSessionsClosed {
    <# Polls the target until no EventSource is enabled by a diagnostic session; returns the last 'sessions' answer. #>
    param([Parameter(Mandatory)] $Target, [int] $TimeoutSeconds = 10)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    do {
        $answer = Send-TestTarget $Target 'sessions'
        if ($answer -eq 'OK sessions enabled=') { return $answer }
        Start-Sleep -Milliseconds 200
    } while ([DateTime]::UtcNow -lt $deadline)
    $answer
}

function Start-DelayedCommand {
    <# Runs a shell command after a delay, in its own process (e.g. to kill a target while a cmdlet collects from it). #>
    param([Parameter(Mandatory)] [double] $Seconds, [Parameter(Mandatory)] [string] $Command)
    $psi = [System.Diagnostics.ProcessStartInfo]::new('bash')
    $psi.ArgumentList.Add('-c')
    $psi.ArgumentList.Add("sleep $Seconds; $Command")
    $psi.UseShellExecute = $false
    [System.Diagnostics.Process]::Start($psi)
}

function Start-NonDotNetProcess {
    <# A long-running process that is certainly not .NET. #>
    $psi = [System.Diagnostics.ProcessStartInfo]::new('sleep')
    $psi.ArgumentList.Add('300')
    $psi.UseShellExecute = $false
    [System.Diagnostics.Process]::Start($psi)
}

function Invoke-DotNetTool {
    <# Runs a pinned local dotnet tool (.config/dotnet-tools.json) from the repository, returning its output lines. #>
    param([Parameter(Mandatory)] [string] $Tool, [Parameter(Mandatory)] [string[]] $Arguments)
    Push-Location $script:RepoRoot
    try {
        $out = & dotnet $Tool @Arguments 2>&1
        if ($LASTEXITCODE -ne 0) { throw "dotnet $Tool $Arguments failed ($LASTEXITCODE): $($out -join "`n")" }
        $out | ForEach-Object { "$_" }
    } finally { Pop-Location }
}

function Get-SosHeapStat {
    <# SOS's own per-type table for a dump (dotnet-dump analyze -c "dumpheap -stat"), as TypeName/Count/TotalBytes rows. #>
    param([Parameter(Mandatory)] [string] $DumpPath, [switch] $Live)
    $command = if ($Live) { 'dumpheap -stat -live' } else { 'dumpheap -stat' }
    $lines = Invoke-DotNetTool dotnet-dump @('analyze', $DumpPath, '-c', $command, '-c', 'exit')
    foreach ($line in $lines) {
        if ($line -match '^\s*[0-9a-f]{6,16}\s+([\d,]+)\s+([\d,]+)\s+(.+?)\s*$') {
            [pscustomobject]@{ TypeName = $Matches[3]; Count = [long]($Matches[1] -replace ',', ''); TotalBytes = [long]($Matches[2] -replace ',', '') }
        }
    }
}

function Get-GcDumpHeapStat {
    <# dotnet-gcdump collect + report on a live process, as TypeName/Count rows summed per type.
       Its report splits arrays and strings into size buckets ("(Bytes > 1M)") and appends the module; both are removed.
       Its "Object Bytes" column is one instance's size, not the type's total, so only counts are returned. #>
    param([Parameter(Mandatory)] [int] $ProcessId)
    $file = Join-Path ([IO.Path]::GetTempPath()) "memoryops-$ProcessId-$([guid]::NewGuid().ToString('N').Substring(0, 8)).gcdump"
    try {
        Invoke-DotNetTool dotnet-gcdump @('collect', '-p', "$ProcessId", '-o', $file) | Out-Null
        $rows = foreach ($line in (Invoke-DotNetTool dotnet-gcdump @('report', $file))) {
            if ($line -match '^\s*[\d,]+\s+([\d,]+)\s+(.+?)\s*$') {
                $name = $Matches[2] -replace '\s+\[[^\]]+\]$', '' -replace '\s+\(Bytes > [^)]+\)$', ''
                [pscustomobject]@{ TypeName = $name; Count = [long]($Matches[1] -replace ',', '') }
            }
        }
        $rows | Group-Object TypeName | ForEach-Object { [pscustomobject]@{ TypeName = $_.Name; Count = ($_.Group | Measure-Object Count -Sum).Sum } }
    } finally { Remove-Item $file -ErrorAction SilentlyContinue }
}

Export-ModuleMember -Function Get-GcDumpHeapStat, Invoke-DotNetTool, Get-SosHeapStat, Start-TestTarget, Send-TestTarget, Stop-TestTarget, Wait-TestTargetSessionsClosed, Get-TestTargetPath, Start-DelayedCommand, Start-NonDotNetProcess

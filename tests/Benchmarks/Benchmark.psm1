# Measuring primitives for tests/Benchmarks/Invoke-Benchmark.ps1. Not a test: nothing here asserts a time.
$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$script:Packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget/packages' }

function Get-ToolDll {
    <# The entry dll of a pinned local tool (.config/dotnet-tools.json), so it runs as `dotnet <dll>` in one process
       (what a globally installed tool does), without the SDK's local-tool resolution in front of it. #>
    param([Parameter(Mandatory)] [string] $Package, [Parameter(Mandatory)] [string] $Dll)
    $manifest = Get-Content (Join-Path $script:RepoRoot '.config/dotnet-tools.json') -Raw | ConvertFrom-Json
    $version = $manifest.tools.$Package.version
    $found = Get-ChildItem (Join-Path $script:Packages "$Package/$version/tools") -Recurse -Filter $Dll -ErrorAction SilentlyContinue |
        Where-Object { $_.FullName -notmatch '[\\/]win[\\/]' } | Select-Object -First 1
    if (-not $found) { throw "$Package $version is not restored (no $Dll): run 'dotnet tool restore'." }
    [pscustomobject]@{ Package = $Package; Version = $version; Path = $found.FullName }
}

function Get-ReadyToRunPwsh {
    <#
        The pinned pwsh, compiled ReadyToRun the way Microsoft ships it for Linux. The `powershell` global tool package is
        IL only (PowerShell's build sets PublishReadyToRun for Release publishes with a runtime; the tool is published
        framework-dependent without one), so every fresh pwsh from it JIT-compiles PowerShell's own code: its bare start
        and every Import-Module cost about twice what they cost with the .deb/.rpm/.tar.gz packages a Linux host runs.
        No such package is reachable here, so the same 7.6.x assemblies are compiled with the SDK's Crossgen2 (restored by
        build.ps1's ReadyToRun publish) into a cached copy: out/bench/pwsh-<version>-r2r.
    #>
    param([Parameter(Mandatory)] [string] $ToolDll)
    $source = Split-Path $ToolDll
    $version = (Get-Item $ToolDll).VersionInfo.ProductVersion -replace '\s.*$', '' -replace '[^0-9A-Za-z.+-]', '_'
    $target = Join-Path $script:RepoRoot "out/bench/pwsh-$version-r2r"
    $done = Join-Path $target '.complete'
    if (Test-Path $done) { return (Join-Path $target 'pwsh.dll') }

    $crossgen = Get-ChildItem (Join-Path $script:Packages 'microsoft.netcore.app.crossgen2.linux-x64') -Directory -ErrorAction SilentlyContinue |
        Sort-Object { [version]($_.Name -replace '-.*$', '') } -Descending | ForEach-Object { Join-Path $_.FullName 'tools/crossgen2' } |
        Where-Object { Test-Path $_ } | Select-Object -First 1
    if (-not $crossgen) { throw "Crossgen2 is not restored: run 'dotnet pwsh ./build.ps1 -Task Build' first (its ReadyToRun publish restores it)." }
    $framework = Split-Path ([object].Assembly.Location)

    if (Test-Path $target) { Remove-Item $target -Recurse -Force }
    New-Item -ItemType Directory (Split-Path $target) -Force | Out-Null
    Copy-Item $source $target -Recurse
    $compiled = 0
    foreach ($dll in Get-ChildItem $source -Filter *.dll) {
        # Only managed IL-only assemblies: native libraries and already precompiled ones are copied as they are.
        $stream = [IO.File]::OpenRead($dll.FullName)
        try {
            $pe = [Reflection.PortableExecutable.PEReader]::new($stream)
            $il = $pe.HasMetadata -and $pe.PEHeaders.CorHeader.ManagedNativeHeaderDirectory.Size -eq 0
            $pe.Dispose()
        } catch { $il = $false } finally { $stream.Dispose() }
        if (-not $il) { continue }
        $out = Join-Path $target $dll.Name
        & $crossgen $dll.FullName -o $out -r "$framework/*.dll" -r "$source/*.dll" --targetos linux --targetarch x64 -O 2>&1 | Out-Null
        if ($LASTEXITCODE -ne 0) { Copy-Item $dll.FullName $out -Force } else { $compiled++ }
    }
    if ($compiled -eq 0) { throw "Crossgen2 compiled none of pwsh's assemblies in $source." }
    Set-Content $done "$compiled assemblies compiled by $crossgen"
    Join-Path $target 'pwsh.dll'
}

function Invoke-Measured {
    <# Runs `dotnet <arguments>` under /usr/bin/time: wall time (stopwatch), peak RSS (ru_maxrss) and CPU time of the
       process, and, with -FirstLinePattern, the seconds until the first stdout line that matches. #>
    param(
        [Parameter(Mandatory)] [string[]] $Arguments,
        [string] $FirstLinePattern,
        [int] $TimeoutSeconds = 600
    )
    $timeFile = [IO.Path]::GetTempFileName()
    try {
        $psi = [Diagnostics.ProcessStartInfo]::new('/usr/bin/time')
        foreach ($a in @('-f', '%e %M %U %S', '-o', $timeFile, 'dotnet') + $Arguments) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.RedirectStandardInput = $true
        $psi.UseShellExecute = $false
        $psi.WorkingDirectory = $script:RepoRoot
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $p = [Diagnostics.Process]::Start($psi)
        $p.StandardInput.Close()
        $stderr = $p.StandardError.ReadToEndAsync()
        $first = $null
        $lines = [Collections.Generic.List[string]]::new()
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
        while ($true) {
            $task = $p.StandardOutput.ReadLineAsync()
            if (-not $task.Wait([Math]::Max(1, ($deadline - [DateTime]::UtcNow).TotalMilliseconds))) {
                $p.Kill($true); throw "dotnet $($Arguments -join ' ') did not finish within $TimeoutSeconds s."
            }
            $line = $task.Result
            if ($null -eq $line) { break }
            if ($null -eq $first -and $FirstLinePattern -and $line -match $FirstLinePattern) { $first = $clock.Elapsed.TotalSeconds }
            $lines.Add($line)
        }
        $p.WaitForExit()
        $clock.Stop()
        $exit = $p.ExitCode
        $err = $stderr.Result
        $p.Dispose()
        $t = (Get-Content $timeFile | Where-Object { $_ -match '^[\d.]+ \d+ [\d.]+ [\d.]+$' } | Select-Object -Last 1) -split ' '
        if ($exit -ne 0 -or -not $t) {
            throw "dotnet $($Arguments -join ' ') failed ($exit): $err $(($lines | Select-Object -Last 5) -join "`n")"
        }
        [pscustomobject]@{
            Wall = $clock.Elapsed.TotalSeconds
            PeakMB = [double]$t[1] / 1024
            CpuSeconds = [double]$t[2] + [double]$t[3]
            FirstLine = $first
            Output = $lines
        }
    } finally { Remove-Item $timeFile -ErrorAction SilentlyContinue }
}

function Measure-InSession {
    <# Runs a script block in this (warm) session: wall time, and the peak resident memory it added to this process
       (VmHWM is reset through /proc/self/clear_refs first, then compared with the resident size before). #>
    param([Parameter(Mandatory)] [scriptblock] $Script)
    [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
    $canReset = $true
    try { [IO.File]::WriteAllText('/proc/self/clear_refs', '5') } catch { $canReset = $false }
    $before = Get-ProcStatusKB $PID 'VmRSS'
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $result = & $Script
    $clock.Stop()
    $hwm = Get-ProcStatusKB $PID 'VmHWM'
    [pscustomobject]@{
        Wall = $clock.Elapsed.TotalSeconds
        AddedPeakMB = if ($canReset) { [Math]::Max(0, $hwm - $before) / 1024 } else { [double]::NaN }
        Result = $result
    }
}

function Get-ProcStatusKB {
    param([int] $ProcessId, [string] $Field)
    $line = Get-Content "/proc/$ProcessId/status" -ErrorAction Stop | Where-Object { $_ -like "${Field}:*" }
    [double](($line -split '\s+')[1])
}

function Get-ProcCpuSeconds {
    <# utime + stime of a process so far, in seconds (/proc/<pid>/stat fields 14 and 15, clock ticks). #>
    param([int] $ProcessId)
    $stat = Get-Content "/proc/$ProcessId/stat" -Raw
    $fields = $stat.Substring($stat.LastIndexOf(')') + 2) -split ' '
    # fields[0] is field 3 (state): utime is field 14, stime 15.
    ([double]$fields[11] + [double]$fields[12]) / $script:ClockTicks
}
$script:ClockTicks = [double](& getconf CLK_TCK)

function Get-Median {
    param([double[]] $Values)
    $v = @($Values | Where-Object { -not [double]::IsNaN($_) } | Sort-Object)
    if ($v.Count -eq 0) { return [double]::NaN }
    if ($v.Count % 2) { $v[($v.Count - 1) / 2] } else { ($v[$v.Count / 2 - 1] + $v[$v.Count / 2]) / 2 }
}

function Invoke-Alternating {
    <# A B A B ...: one warm-up of each (not counted) unless -NoWarmUp, then $Runs measured runs of each.
       Each side is a script block returning an object with Wall and PeakMB (and optionally FirstLine). #>
    param([Parameter(Mandatory)] [scriptblock] $A, [Parameter(Mandatory)] [scriptblock] $B, [int] $Runs = 3, [switch] $NoWarmUp, [string] $Name)
    if (-not $NoWarmUp) {
        Write-Host "   $Name warm-up" -ForegroundColor DarkGray
        & $A | Out-Null; & $B | Out-Null
    }
    $as = [Collections.Generic.List[object]]::new(); $bs = [Collections.Generic.List[object]]::new()
    for ($i = 1; $i -le $Runs; $i++) {
        $ra = & $A; $as.Add($ra)
        $rb = & $B; $bs.Add($rb)
        Write-Host ("   {0} run {1}: A {2:N2} s {3:N0} MB | B {4:N2} s {5:N0} MB" -f $Name, $i, $ra.Wall, $ra.PeakMB, $rb.Wall, $rb.PeakMB) -ForegroundColor DarkGray
    }
    [pscustomobject]@{ A = $as.ToArray(); B = $bs.ToArray() }
}

function Get-RunSummary {
    <# Medians of a list of measured runs. #>
    param([object[]] $Runs)
    $first = @($Runs | Where-Object { $null -ne $_.PSObject.Properties['FirstLine'] -and $null -ne $_.FirstLine } | ForEach-Object FirstLine)
    [pscustomobject]@{
        Wall = Get-Median ($Runs | ForEach-Object Wall)
        PeakMB = Get-Median ($Runs | ForEach-Object { if ($_.PSObject.Properties['PeakMB']) { $_.PeakMB } else { $_.AddedPeakMB } })
        FirstLine = if ($first.Count) { Get-Median $first } else { $null }
        Runs = $Runs.Count
        Walls = ($Runs | ForEach-Object { '{0:N2}' -f $_.Wall }) -join ', '
    }
}

Export-ModuleMember -Function Get-ToolDll, Get-ReadyToRunPwsh, Invoke-Measured, Measure-InSession, Get-ProcStatusKB, Get-ProcCpuSeconds, Get-Median, Invoke-Alternating, Get-RunSummary

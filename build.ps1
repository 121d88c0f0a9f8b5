#Requires -Version 7.4
<#
.SYNOPSIS
    The one entry point: builds, tests and demonstrates MemoryOps.
.DESCRIPTION
    Build  compiles the solution and lays the module out as an importable folder: out/MemoryOps/<version>/,
           help included (Docs).
    Docs   turns docs/en-US (PlatyPS markdown schema) into en-US/MemoryOps.dll-Help.xml and about_*.help.txt.
    Test   builds, runs the xunit engine tests and the Pester cmdlet tests, prints one closing line
           "N passed, N failed" for both suites together and exits non-zero on any failure.
    Demo   builds and runs the story on the bundled TestTarget.
    Bench  builds and runs the side-by-side benchmarks against the Microsoft tools (tests/Benchmarks), writing
           docs/performance.md (about 10 minutes).
    Package builds and publishes the module to a local PSResourceGet file repository, out/repository, as
           Publish-PSResource would to the Gallery (Install-PSResource / Save-PSResource -Repository read it).
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Docs', 'Test', 'Demo', 'Bench', 'Package')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Run only the Pester files whose name matches (e.g. Get-GcCounter); all when empty.
    [string] $PesterFilter = ''
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
$manifest = Import-PowerShellDataFile (Join-Path $root 'MemoryOps.psd1')
$version = $manifest.ModuleVersion
$moduleDir = Join-Path $root "out/MemoryOps/$version"
$resultsDir = Join-Path $root 'out/TestResults'

function Invoke-Native {
    # Runs a native command and stops the build when it fails.
    param([string] $What, [scriptblock] $Command)
    Write-Host "==> $What" -ForegroundColor Cyan
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed with exit code $LASTEXITCODE." }
}

function Invoke-Build {
    # Export-MemoryReport's chart library, Chart.js, is restored by this build, not kept in the repository: the
    # engine's project (src/MemoryOps.Engine/MemoryOps.Engine.csproj, target RestoreChartJs) downloads the pinned
    # version's tarball from registry.npmjs.org with MSBuild's DownloadFile, refuses it unless its sha512 equals the
    # pinned npm integrity value, and embeds it unchanged. Why Chart.js: one small (210 KB), well-kept, MIT library
    # that draws every chart the report needs (time series with LTTB decimation for 100,000 points, horizontal bars)
    # from configuration alone. Why MSBuild and not npm: CI's fresh machine has only the .NET SDK (no Node), and a
    # plain `dotnet build` of the solution must work too; the registry's tarball and its integrity value are all npm
    # itself would use.
    Invoke-Native 'dotnet build' { dotnet build (Join-Path $root 'MemoryOps.sln') -c $Configuration --nologo -v:q -clp:NoSummary }
    $publish = Join-Path $root 'out/publish'
    # ReadyToRun: the module's assemblies and their dependencies are compiled ahead of time (the SDK's Crossgen2
    # package for linux-x64), so a fresh pwsh running one cmdlet does not JIT TraceEvent and ClrMD first. The IL
    # stays in the files: on another architecture they still run, JIT-compiled. The projects target net10.0, the
    # runtime pwsh 7.6 runs on: code compiled ahead of time against .NET 8 was mostly thrown away and JIT-compiled
    # again on .NET 10 (measured: a fresh import plus one Get-GcCounter JIT-compiled ~1,700 methods with net8.0
    # ReadyToRun, ~1,100 with net10.0 ReadyToRun, ~1,750-2,400 with no ReadyToRun at all).
    if (Test-Path $publish) { Remove-Item $publish -Recurse -Force }
    Invoke-Native 'dotnet publish (module, ReadyToRun)' {
        dotnet publish (Join-Path $root 'src/MemoryOps/MemoryOps.csproj') -c $Configuration -o $publish --nologo -v:q `
            -r linux-x64 --self-contained false -p:PublishReadyToRun=true
    }

    # The dump reader process (src/MemoryOps.DumpWorker): dumps are read in it, so a dump that crashes the runtime's
    # native DAC ends that process, not pwsh. Only its own files are taken from this publish; it runs on the
    # assemblies the module ships in lib/ (it has no deps.json, so the host takes what is in its folder).
    $publishWorker = Join-Path $root 'out/publish-worker'
    if (Test-Path $publishWorker) { Remove-Item $publishWorker -Recurse -Force }
    Invoke-Native 'dotnet publish (dump reader, ReadyToRun)' {
        dotnet publish (Join-Path $root 'src/MemoryOps.DumpWorker/MemoryOps.DumpWorker.csproj') -c $Configuration -o $publishWorker --nologo -v:q `
            -r linux-x64 --self-contained false -p:PublishReadyToRun=true
    }

    if (Test-Path $moduleDir) { Remove-Item $moduleDir -Recurse -Force }
    New-Item -ItemType Directory -Path $moduleDir | Out-Null
    # The module's own two assemblies sit beside the manifest and load into PowerShell's default context; the engine
    # and every third-party dependency go to lib/ and load into the module's own context (src/MemoryOps/EngineLoadContext.cs).
    $lib = New-Item -ItemType Directory -Path (Join-Path $moduleDir 'lib')
    $ownAssemblies = 'MemoryOps.dll', 'MemoryOps.pdb', 'MemoryOps.Model.dll', 'MemoryOps.Model.pdb'
    # Managed assemblies only: TraceEvent's amd64/x86/arm64 folders hold Windows-only native files the module never loads on Linux.
    # Not shipped either: ClrMD's symbol-server sign-in (Azure.*, MSAL, System.ClientModel, AntiSSRF and their helpers;
    # MemoryOps never downloads symbols: it reads the DAC beside the runtime or from -RuntimePath) and TraceEvent's
    # Windows COM interop. The whole Pester suite runs against this layout, so a missing file would show there.
    # Azure.Core alone IS shipped, though none of its code runs: ClrMD's DataTargetOptions.FileLocator getter names
    # its symbol-server type (which holds an Azure.Core AccessToken), so the runtime must load Azure.Core to compile
    # that getter even when our own local-only locator is set, and it is called inside DAC callbacks, where the
    # FileNotFoundException of a missing Azure.Core ended pwsh (issue 11; src/MemoryOps.Engine/Heap/DumpTarget.cs).
    $notShipped = 'Azure.Identity*', 'Microsoft.Identity.*', 'Microsoft.IdentityModel.*', 'System.ClientModel.dll', 'Microsoft.Security.AntiSSRF.dll',
                  'System.Memory.Data.dll', 'System.Security.Cryptography.ProtectedData.dll', 'Dia2Lib.dll', 'TraceReloggerLib.dll'
    Get-ChildItem $publish -File | Where-Object Extension -in '.dll', '.pdb' |
        Where-Object { $name = $_.Name; -not ($notShipped | Where-Object { $name -like $_ }) } |
        ForEach-Object { Copy-Item $_.FullName -Destination $(if ($_.Name -in $ownAssemblies) { $moduleDir } else { $lib }) }
    foreach ($file in 'MemoryOps.DumpWorker.dll', 'MemoryOps.DumpWorker.pdb', 'MemoryOps.DumpWorker.runtimeconfig.json') {
        Copy-Item (Join-Path $publishWorker $file) -Destination $lib
    }
    Copy-Item (Join-Path $root 'MemoryOps.psd1'), (Join-Path $root 'LICENSE') $moduleDir
    Copy-Item (Join-Path $root 'src/MemoryOps/MemoryOps.Format.ps1xml'), (Join-Path $root 'src/MemoryOps/MemoryOps.Types.ps1xml') $moduleDir
    Invoke-Docs
    Write-Host "Module laid out in $moduleDir" -ForegroundColor Green
}

function Invoke-Docs {
    # PlatyPS is not served by the registries we reach; our own small generator (Markdig-based) does its job.
    $builder = Join-Path $root "src/MemoryOps.HelpBuilder/bin/$Configuration/net10.0/MemoryOps.HelpBuilder.dll"
    if (-not (Test-Path $builder)) {
        Invoke-Native 'dotnet build (help builder)' { dotnet build (Join-Path $root 'src/MemoryOps.HelpBuilder/MemoryOps.HelpBuilder.csproj') -c $Configuration --nologo -v:q }
    }
    Invoke-Native 'help from docs/en-US' { dotnet $builder (Join-Path $root 'docs/en-US') (Join-Path $moduleDir 'en-US') 'MemoryOps.dll-Help.xml' }
}

function Get-PesterPath {
    $proj = Join-Path $root 'tests/MemoryOps.Tests/MemoryOps.Tests.csproj'
    Invoke-Native 'restore Pester from NuGet' { dotnet restore $proj --nologo -v:q }
    $pesterVersion = ([xml](Get-Content $proj)).Project.PropertyGroup.PesterVersion | Where-Object { $_ } | Select-Object -First 1
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget/packages' }
    $path = Join-Path $packages "pester/$pesterVersion/tools/Pester.psd1"
    if (-not (Test-Path $path)) { throw "Pester $pesterVersion was not restored to $path." }
    $path
}

function Invoke-Test {
    Invoke-Build
    if (Test-Path $resultsDir) { Remove-Item $resultsDir -Recurse -Force }
    New-Item -ItemType Directory -Path $resultsDir | Out-Null

    # xunit (engine)
    Write-Host '==> xunit: tests/MemoryOps.Engine.Tests' -ForegroundColor Cyan
    dotnet test (Join-Path $root 'tests/MemoryOps.Engine.Tests/MemoryOps.Engine.Tests.csproj') -c $Configuration --no-build --nologo `
        --logger 'trx;LogFileName=engine.trx' --logger 'console;verbosity=normal' --results-directory $resultsDir
    $xunitExit = $LASTEXITCODE
    $trx = Join-Path $resultsDir 'engine.trx'
    $xPassed = 0; $xFailed = 0
    if (Test-Path $trx) {
        $counters = ([xml](Get-Content $trx)).TestRun.ResultSummary.Counters
        $xPassed = [int]$counters.passed
        $xFailed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
    }
    if ($xunitExit -ne 0 -and $xFailed -eq 0) { $xFailed = 1 } # the runner itself failed

    # Pester (cmdlets), in a fresh pwsh so the freshly built module is what gets imported.
    $pester = Get-PesterPath
    $counts = Join-Path $resultsDir 'pester-counts.json'
    Write-Host '==> Pester: tests/MemoryOps.Tests' -ForegroundColor Cyan
    dotnet pwsh -NoProfile -NonInteractive -File (Join-Path $root 'tests/MemoryOps.Tests/Invoke-PesterRun.ps1') `
        -PesterPath $pester -ModulePath (Join-Path $moduleDir 'MemoryOps.psd1') -CountsPath $counts -Filter $PesterFilter
    $pesterExit = $LASTEXITCODE
    $pPassed = 0; $pFailed = 0
    if (Test-Path $counts) {
        $c = Get-Content $counts -Raw | ConvertFrom-Json
        $pPassed = [int]$c.Passed; $pFailed = [int]$c.Failed
    }
    if ($pesterExit -ne 0 -and $pFailed -eq 0) { $pFailed = 1 }

    Write-Host "xunit: $xPassed passed, $xFailed failed; Pester: $pPassed passed, $pFailed failed"
    $passed = $xPassed + $pPassed
    $failed = $xFailed + $pFailed
    Write-Output "$passed passed, $failed failed"
    if ($failed -gt 0 -or $passed -eq 0) { exit 1 }
}

function Invoke-Demo {
    Invoke-Build
    dotnet pwsh -NoProfile -NonInteractive -File (Join-Path $root 'tests/Demo.ps1') -ModulePath (Join-Path $moduleDir 'MemoryOps.psd1')
    if ($LASTEXITCODE -ne 0) { Write-Host 'The demo failed.' -ForegroundColor Red; exit 1 }
}

function Invoke-Bench {
    $load = (Get-Content /proc/loadavg -ErrorAction SilentlyContinue) -split ' ' | Select-Object -First 1   # before the build loads the machine
    Invoke-Build
    dotnet pwsh -NoProfile -NonInteractive -File (Join-Path $root 'tests/Benchmarks/Invoke-Benchmark.ps1') -ModulePath (Join-Path $moduleDir 'MemoryOps.psd1') -LoadBeforeBuild "$load"
    if ($LASTEXITCODE -ne 0) { Write-Host 'The benchmark failed.' -ForegroundColor Red; exit 1 }
}

function Invoke-Package {
    Invoke-Build
    $repository = Join-Path $root 'out/repository'
    if (Test-Path $repository) { Remove-Item $repository -Recurse -Force }
    New-Item -ItemType Directory -Path $repository | Out-Null
    # A repository registered for this publish only (PSResourceGet keeps registrations per user).
    $name = "MemoryOpsBuild$PID"
    Register-PSResourceRepository -Name $name -Uri $repository -Trusted
    try { Publish-PSResource -Path $moduleDir -Repository $name }
    finally { Unregister-PSResourceRepository -Name $name }
    Write-Host "Published to $repository ($((Get-ChildItem $repository -Filter *.nupkg).Name))" -ForegroundColor Green
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Docs' { if (-not (Test-Path $moduleDir)) { Invoke-Build } else { Invoke-Docs } }
    'Test' { Invoke-Test }
    'Demo' { Invoke-Demo }
    'Bench' { Invoke-Bench }
    'Package' { Invoke-Package }
}

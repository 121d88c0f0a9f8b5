<#
    Dependency isolation: MemoryOps beside another module that loaded other versions of the same third-party
    assemblies into PowerShell's default load context (older NETCore.Client, TraceEvent and Microsoft.Extensions.*,
    restored by tests/MemoryOps.Tests/MemoryOps.Tests.csproj). Each order runs in a fresh pwsh, since what counts
    is which assembly came first.
#>
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force
    $script:target = Start-TestTarget
    Send-TestTarget $target 'leak 1000' | Out-Null

    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget/packages' }
    $script:older = @(
        Join-Path $packages 'microsoft.diagnostics.netcore.client/0.2.510501/lib/net6.0/Microsoft.Diagnostics.NETCore.Client.dll'
        Join-Path $packages 'microsoft.diagnostics.tracing.traceevent/3.1.21/lib/netstandard2.0/Microsoft.Diagnostics.FastSerialization.dll'
        Join-Path $packages 'microsoft.diagnostics.tracing.traceevent/3.1.21/lib/netstandard2.0/Microsoft.Diagnostics.Tracing.TraceEvent.dll'
        Join-Path $packages 'microsoft.extensions.logging.abstractions/6.0.0/lib/net6.0/Microsoft.Extensions.Logging.Abstractions.dll'
    )
    foreach ($dll in $older) { if (-not (Test-Path $dll)) { throw "Not restored: $dll (build.ps1 restores tests/MemoryOps.Tests/MemoryOps.Tests.csproj)." } }
    $script:olderClient = "$([Reflection.AssemblyName]::GetAssemblyName($older[0]).Version)"
    $script:ourClient = "$([Reflection.AssemblyName]::GetAssemblyName((Join-Path (Split-Path $env:MEMORYOPS_MODULE_PATH) 'lib/Microsoft.Diagnostics.NETCore.Client.dll')).Version)"

    # What "the other module" does with its assemblies: real calls into each of them.
    $script:useOlder = @'
        $published = [Microsoft.Diagnostics.NETCore.Client.DiagnosticsClient]::GetPublishedProcesses()
        $parser = [Microsoft.Diagnostics.Tracing.Parsers.ClrTraceEventParser]::ProviderName
        $logger = [Microsoft.Extensions.Logging.Abstractions.NullLogger]::Instance
        $other = [pscustomobject]@{ SeesTarget = $published -contains $PID_OF_TARGET; Parser = $parser; Logger = $null -ne $logger }
'@.Replace('$PID_OF_TARGET', "$($target.ProcessId)")
    $script:useMemoryOps = @'
        $sample = Get-GcCounter -ProcessId PID_OF_TARGET -Counter gc-heap-size -MaxSamples 1
        $snapshot = New-HeapSnapshot -ProcessId PID_OF_TARGET
        $mine = [pscustomobject]@{ HeapSize = $sample.Value; Orders = ($snapshot.Types | Where-Object TypeName -eq 'OrderService.OrderStat').Count }
'@.Replace('PID_OF_TARGET', "$($target.ProcessId)")
    $script:report = @'
        $contexts = foreach ($alc in [System.Runtime.Loader.AssemblyLoadContext]::All) {
            foreach ($a in $alc.Assemblies) {
                $n = $a.GetName()
                if ($n.Name -match '^(Microsoft\.Diagnostics\.|Microsoft\.Extensions\.Logging|MemoryOps)') { [pscustomobject]@{ Context = $alc.Name; Name = $n.Name; Version = "$($n.Version)" } }
            }
        }
        [pscustomobject]@{ Other = $other; Mine = $mine; Assemblies = @($contexts) } | ConvertTo-Json -Depth 4 -Compress
'@

    function Invoke-FreshSession([string] $Script) {
        # The same pwsh as this one (the pinned tool runs as `dotnet <PSHOME>/pwsh.dll`).
        $output = dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -c $Script 2>&1
        if ($LASTEXITCODE -ne 0) { throw "The session failed ($LASTEXITCODE): $output" }
        ($output | Select-Object -Last 1) | ConvertFrom-Json
    }
}

AfterAll { $script:target | Stop-TestTarget }

Describe 'MemoryOps beside other versions of its dependencies' {
    It 'works when another module loaded older NETCore.Client, TraceEvent and Microsoft.Extensions.* first, and so does that module' {
        $addOlder = ($older | ForEach-Object { "Add-Type -Path '$_'" }) -join '; '
        $r = Invoke-FreshSession "$addOlder; $useOlder; Import-Module '$env:MEMORYOPS_MODULE_PATH'; $useMemoryOps; $useOlder; $report"
        $r.Other.SeesTarget | Should -BeTrue
        $r.Other.Parser | Should -Be 'Microsoft-Windows-DotNETRuntime'
        $r.Other.Logger | Should -BeTrue
        $r.Mine.HeapSize | Should -BeGreaterThan 0
        $r.Mine.Orders | Should -Be 1000
        # The older copies stay the default context's; MemoryOps uses its own in its own context.
        ($r.Assemblies | Where-Object { $_.Context -eq 'Default' -and $_.Name -eq 'Microsoft.Diagnostics.NETCore.Client' }).Version | Should -Be $olderClient
        ($r.Assemblies | Where-Object { $_.Context -eq 'MemoryOps' -and $_.Name -eq 'Microsoft.Diagnostics.NETCore.Client' }).Version | Should -Be $ourClient
        ($r.Assemblies | Where-Object { $_.Context -eq 'Default' -and $_.Name -eq 'Microsoft.Diagnostics.Tracing.TraceEvent' }).Version | Should -Match '^3\.'
        ($r.Assemblies | Where-Object { $_.Context -eq 'MemoryOps' -and $_.Name -eq 'Microsoft.Diagnostics.Tracing.TraceEvent' }).Version | Should -Match '^4\.'
        $olderClient | Should -Not -Be $ourClient
        ($r.Assemblies | Where-Object { $_.Context -eq 'Default' -and $_.Name -eq 'MemoryOps.Engine' }) | Should -BeNullOrEmpty
    }

    It 'works the other way round: MemoryOps first, then the older assemblies, then MemoryOps again' {
        $addOlder = ($older | ForEach-Object { "Add-Type -Path '$_'" }) -join '; '
        $r = Invoke-FreshSession "Import-Module '$env:MEMORYOPS_MODULE_PATH'; $useMemoryOps; $addOlder; $useOlder; $useMemoryOps; $report"
        $r.Other.SeesTarget | Should -BeTrue
        $r.Other.Logger | Should -BeTrue
        $r.Mine.Orders | Should -Be 1000
        ($r.Assemblies | Where-Object { $_.Context -eq 'Default' -and $_.Name -eq 'Microsoft.Diagnostics.NETCore.Client' }).Version | Should -Be $olderClient
        ($r.Assemblies | Where-Object { $_.Context -eq 'MemoryOps' -and $_.Name -eq 'MemoryOps.Engine' }) | Should -Not -BeNullOrEmpty
    }

    It 'keeps the objects scripts see in the default context: type literals and format views work' {
        $r = Invoke-FreshSession "Import-Module '$env:MEMORYOPS_MODULE_PATH'; `$s = [MemoryOps.HeapSnapshot]@{ TotalBytes = 1MB }; [pscustomobject]@{ Type = `$s.GetType().Assembly.GetName().Name; Context = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$s.GetType().Assembly).Name; View = (`$s | Out-String -Width 250) -match '1\.0 MB' } | ConvertTo-Json -Compress"
        $r.Type | Should -Be 'MemoryOps.Model'
        $r.Context | Should -Be 'Default'
        $r.View | Should -BeTrue
    }
}

<#
    The package as a user gets it: the built module published to a local PSResourceGet file repository (what
    build.ps1 -Task Package does, and Publish-PSResource does for the Gallery), installed from there into an empty
    module path, and used from that installed copy in a fresh pwsh that knows no other module path.
#>
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force
    $script:target = Start-TestTarget
    Send-TestTarget $target 'leak 2000' | Out-Null
    $script:moduleDir = Split-Path $env:MEMORYOPS_MODULE_PATH
    $script:repository = Join-Path $TestDrive 'repository'
    $script:installed = Join-Path $TestDrive 'modules'
    New-Item -ItemType Directory $repository, $installed | Out-Null
    $name = "MemoryOpsTest$PID"
    Register-PSResourceRepository -Name $name -Uri $repository -Trusted
    try {
        Publish-PSResource -Path $moduleDir -Repository $name
        Save-PSResource -Name MemoryOps -Repository $name -Path $installed -TrustRepository
    } finally { Unregister-PSResourceRepository -Name $name }
}

AfterAll { $script:target | Stop-TestTarget }

Describe 'The published package' {
    It 'holds the whole module with its licence, and installs into a clean module path' {
        Get-ChildItem $repository -Filter 'MemoryOps.*.nupkg' | Should -HaveCount 1
        $copy = Join-Path $installed 'MemoryOps/0.1.0'
        foreach ($file in 'MemoryOps.psd1', 'MemoryOps.dll', 'MemoryOps.Model.dll', 'MemoryOps.Format.ps1xml', 'LICENSE',
            'en-US/MemoryOps.dll-Help.xml', 'lib/MemoryOps.Engine.dll', 'lib/Microsoft.Diagnostics.Tracing.TraceEvent.dll') {
            Join-Path $copy $file | Should -Exist
        }
        (Get-Content (Join-Path $copy 'LICENSE') -First 1) | Should -Be 'MIT License'
    }

    It 'works from the installed copy in a fresh pwsh that has only that module path' {
        $script = "Import-Module MemoryOps -ErrorAction Stop; " +
            "`$p = Get-DotNetProcess -ProcessId $($target.ProcessId); " +
            "`$s = New-HeapSnapshot -ProcessId $($target.ProcessId); " +
            "[pscustomobject]@{ Path = (Get-Module MemoryOps).ModuleBase; Name = `$p.Name; Orders = (`$s.Types | Where-Object TypeName -eq 'OrderService.OrderStat').Count; " +
            "Help = (Get-Help New-HeapSnapshot).Synopsis; Commands = @(Get-Command -Module MemoryOps).Count } | ConvertTo-Json -Compress"
        $saved = $env:PSModulePath
        try {
            $env:PSModulePath = $installed   # pwsh adds its own folders; none of them holds MemoryOps
            $output = dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -c $script 2>&1
        } finally { $env:PSModulePath = $saved }
        $LASTEXITCODE | Should -Be 0 -Because "$output"
        $r = $output | Select-Object -Last 1 | ConvertFrom-Json
        $r.Path | Should -BeLike "$installed*"
        $r.Name | Should -Be 'TestTarget'
        $r.Orders | Should -Be 2000
        $r.Help | Should -Not -BeNullOrEmpty
        $r.Commands | Should -Be @((Import-PowerShellDataFile $env:MEMORYOPS_MODULE_PATH).CmdletsToExport).Count
    }
}

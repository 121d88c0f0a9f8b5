@{
    RootModule           = 'MemoryOps.dll'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Core')
    GUID                 = '6f4d2b1e-8a63-4c1f-9d2e-5b7a0c3e9f41'
    Author               = 'MemoryOps contributors'
    CompanyName          = 'MemoryOps'
    Copyright            = '(c) MemoryOps contributors. MIT License.'
    Description          = 'See, capture, compare and police the memory of .NET services from the PowerShell pipeline: live GC counters and events, heap snapshots and dumps, diffs, baselines and thresholds.'
    PowerShellVersion    = '7.4'
    # The objects scripts see (snapshots, samples, rules...) load first into PowerShell's own context; the engine and
    # its dependencies load from lib/ into the module's own context when MemoryOps.dll is imported.
    RequiredAssemblies   = @('MemoryOps.Model.dll')
    FormatsToProcess     = @('MemoryOps.Format.ps1xml')
    CmdletsToExport      = @(
        'Get-DotNetProcess'
        'Get-GcCounter'
        'Get-GcEvent'
        'New-MemoryDump'
        'Get-HeapRetention'
        'New-HeapSnapshot'
        'Export-HeapSnapshot'
        'Import-HeapSnapshot'
        'Compare-HeapSnapshot'
        'Save-MemoryBaseline'
        'Get-MemoryBaseline'
        'New-MemoryRule'
        'Import-MemoryPolicy'
        'Test-MemoryThreshold'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('dotnet', 'memory', 'gc', 'diagnostics', 'eventpipe', 'heap', 'leak', 'Linux', 'PSEdition_Core')
            ProjectUri   = 'https://github.com/memoryops/MemoryOps'
            LicenseUri   = 'https://github.com/memoryops/MemoryOps/blob/main/LICENSE'
            ReleaseNotes = '0.1.0: Get-DotNetProcess, Get-GcCounter (System.Runtime EventCounters and Meter, any provider), Get-GcEvent (per-GC records and a pause summary), New-MemoryDump, New-HeapSnapshot (live over EventPipe, or from a dump with ClrMD), Export-/Import-HeapSnapshot, Compare-HeapSnapshot.'
        }
    }
}

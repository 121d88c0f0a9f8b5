@{
    RootModule           = 'MemoryOps.dll'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Core')
    GUID                 = '6f4d2b1e-8a63-4c1f-9d2e-5b7a0c3e9f41'
    Author               = 'MemoryOps contributors'
    CompanyName          = 'MemoryOps'
    Copyright            = '(c) MemoryOps contributors. MIT License.'
    Description          = 'See, capture, compare and police the memory of .NET services from the PowerShell pipeline: live GC counters and events, heap snapshots and dumps, diffs, baselines and thresholds. Linux only.'
    PowerShellVersion    = '7.6'
    # The objects scripts see (snapshots, samples, rules...) load first into PowerShell's own context; the engine and
    # its dependencies load from lib/ into the module's own context when MemoryOps.dll is imported.
    RequiredAssemblies   = @('MemoryOps.Model.dll')
    TypesToProcess       = @('MemoryOps.Types.ps1xml')
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
        'Remove-MemoryBaseline'
        'New-MemoryRule'
        'Import-MemoryPolicy'
        'Test-MemoryThreshold'
        'ConvertTo-OpenMetrics'
        'Export-MemoryMetric'
        'Export-MemoryReport'
        'Get-ProcessMemory'
        'Get-AllocationProfile'
        'Export-AllocationProfile'
        'Compare-AllocationProfile'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('dotnet', 'memory', 'gc', 'diagnostics', 'eventpipe', 'heap', 'leak', 'Linux', 'PSEdition_Core')
            # No ProjectUri, LicenseUri or HelpInfoURI until the project has a public home that answers: a link that
            # does not resolve is worse than none. The licence (MIT) ships in the module folder as LICENSE.
            ReleaseNotes = @'
0.1.0 (Linux, PowerShell 7.6 or later: .NET 10; imports fail at once elsewhere)
- Get-DotNetProcess; Get-GcCounter (System.Runtime EventCounters and Meter, any provider); Get-GcEvent (per-GC
  records and a pause summary).
- New-MemoryDump; New-HeapSnapshot (live over EventPipe, or from a Heap/Full dump with ClrMD, -LiveOnly);
  Export-/Import-HeapSnapshot; Compare-HeapSnapshot; Get-HeapRetention (paths from roots, retained sizes).
- Save-/Get-/Remove-MemoryBaseline (history and statistics per baseline and per host; Remove-MemoryBaseline
  drops whole baselines or the entries of some hosts or before a date); New-MemoryRule, Import-MemoryPolicy,
  Test-MemoryThreshold (-Assert for scheduled checks).
- Fleets: objects from remoting (Invoke-Command over SSH), jobs and Import-Clixml are taken by every cmdlet and
  rebuilt losslessly; snapshots, samples, GC records, dumps, deltas and verdicts carry their Host (PSComputerName
  for remote ones); baselines keep one history per host and baseline rules hold each host to its own. The fleet
  runbook is docs/examples/Invoke-FleetMemoryCheck.ps1 in the source repository.
- Metrics for Prometheus: ConvertTo-OpenMetrics (samples, GC summaries, snapshots' -Top largest types,
  comparisons and verdicts as OpenMetrics 1.0 or Prometheus text 0.0.4) and Export-MemoryMetric (a .prom file
  for node_exporter's textfile collector, replaced atomically, or a push to a Pushgateway; a continuous input
  keeps it current). README: a scheduled check that exports its metrics, and alert rules checked with promtool.
- Export-MemoryReport: one self-contained HTML page with charts (counters, GC pauses, top types, growth,
  retention paths, verdicts failures first); Chart.js inlined, no network needed to view it.
- Get-ProcessMemory: any process's memory (not only .NET) against its memory cgroup's limit (v1 and v2): RSS,
  PSS, anonymous/file/shared/swap, the effective limit, headroom, utilization and OOM kills; -IncludeGc adds the
  GC's committed bytes. Rules, baselines, metrics and the report take its readings.
- Get-AllocationProfile (per type and per call stack, from the runtime's randomized allocation sampling, or
  GCAllocationTick), Compare-AllocationProfile, Export-AllocationProfile (pprof, speedscope);
  New-MemoryRule -MaxAllocationRate.
- The engine and its dependencies load into the module's own assembly load context; assemblies are ReadyToRun
  for .NET 10.
'@
        }
    }
}

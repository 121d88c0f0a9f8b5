<#
.SYNOPSIS
    The fleet runbook: one heap snapshot of a service on every host, each held to that host's own baseline in one
    central store; the passing ones become the new baseline. Ends with one verdict table and an exit code.

.DESCRIPTION
    Remoting does the fan-out (one PowerShell session per host over SSH, Invoke-Command -ThrottleLimit): MemoryOps
    runs on each host and its snapshots come home as deserialized objects, which every MemoryOps cmdlet takes as
    they are, with the host they came from as their Host. The controller then, per host:
      - compares the snapshot with that host's latest baseline entry (Compare-HeapSnapshot), and
      - holds the snapshot and the comparison to the rules (Test-MemoryThreshold; a -Baseline rule is held to that
        host's own history of the baseline),
    saves the snapshots of the hosts that passed (Save-MemoryBaseline), and writes one row per host and rule.
    A host that cannot be reached, or where the snapshot fails, gets a failed row and never stops the others.

    Exit code: 0 when every row passed, 1 otherwise (run it as `pwsh -File` from a scheduler or CI).

.EXAMPLE
    ./Invoke-FleetMemoryCheck.ps1 -HostName web01, web02, web03 -UserName ops -KeyFilePath ~/.ssh/fleet `
        -ProcessName OrderService -Baseline orders -Store /srv/memoryops/baselines `
        -Rule (New-MemoryRule -TypeName 'OrderService.*' -MaxBytesGrowth 50MB),
              (New-MemoryRule -Baseline orders -Store /srv/memoryops/baselines -Counter TotalBytes -MaxDeviationPercent 25 -Direction Above)

    A -Baseline rule reads its baseline from its own -Store (or $env:MEMORYOPS_BASELINE_STORE), not from this
    script's -Store: give both the same folder.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string[]] $HostName,
    [int] $Port = 22,
    [string] $UserName,
    [string] $KeyFilePath,
    # ssh -o options, e.g. @{ StrictHostKeyChecking = 'yes' }.
    [hashtable] $SshOption,
    [Parameter(Mandatory)] [string] $ProcessName,
    [Parameter(Mandatory)] [string] $Baseline,
    [string] $Store,
    # Rules (New-MemoryRule, Import-MemoryPolicy) or policy files (.psd1, .json), so `pwsh -File` can pass them too.
    [Parameter(Mandatory)] [object[]] $Rule,
    [int] $ThrottleLimit = 32,
    [int] $MaxHistory = 30
)

if (-not (Get-Module MemoryOps)) { Import-Module MemoryOps -ErrorAction Stop }
# Anything this script did not foresee ends it with exit code 2, never with 0 and a check that checked nothing.
trap { Write-Error -ErrorRecord $_ -ErrorAction Continue; exit 2 }
$ErrorActionPreference = 'Stop'
$Rule = @(foreach ($r in $Rule) { if ($r -is [string]) { Import-MemoryPolicy -Path $r } else { $r } })
$storeArgs = if ($Store) { @{ Store = $Store } } else { @{} }
$verdicts = [System.Collections.Generic.List[object]]::new()
function Add-Verdict($Computer, $Rule, $Subject, $Observed, $Limit, $Passed, $Message, $Severity = 'Error') {
    $verdicts.Add([pscustomobject]@{ PSTypeName = 'MemoryOps.FleetVerdict'; Host = $Computer; Rule = $Rule; Subject = $Subject
                                     Observed = $Observed; Limit = $Limit; Passed = $Passed; Severity = $Severity; Message = $Message })
}

# 1. One session per host. A host that cannot be reached is a failed row, and the others go on.
$connect = @{ HostName = $HostName; Port = $Port; ErrorAction = 'SilentlyContinue'; ErrorVariable = 'unreachable' }
if ($UserName) { $connect.UserName = $UserName }
if ($KeyFilePath) { $connect.KeyFilePath = $KeyFilePath }
if ($SshOption) { $connect.Options = $SshOption }
$sessions = @(New-PSSession @connect)
foreach ($e in $unreachable) {
    $computer = $e.TargetObject.ConnectionInfo.ComputerName
    Add-Verdict $computer 'Reachable' '' $null $null $false "Not reachable: $($e.Exception.Message)"
}

try {
    # 2. The snapshots, taken on every host at once. Errors raised there come home with the host's name.
    $snapshots = @()
    if ($sessions.Count -gt 0) {
        $snapshots = @(Invoke-Command -Session $sessions -ThrottleLimit $ThrottleLimit -ErrorAction SilentlyContinue -ErrorVariable remoteErrors -ArgumentList $ProcessName -ScriptBlock {
            param($name)
            Get-DotNetProcess -Name $name | New-HeapSnapshot
        })
    }
    foreach ($e in $remoteErrors) {
        $computer = if ($e.OriginInfo) { $e.OriginInfo.PSComputerName } else { $e.TargetObject.ConnectionInfo.ComputerName }
        Add-Verdict $computer 'Snapshot' $ProcessName $null $null $false "$($e.FullyQualifiedErrorId.Split(',')[0]): $($e.Exception.Message)"
    }
    $answered = $snapshots.PSComputerName + @($remoteErrors | ForEach-Object { $_.OriginInfo.PSComputerName })
    foreach ($s in $sessions | Where-Object ComputerName -notin $answered) {
        Add-Verdict $s.ComputerName 'Snapshot' $ProcessName $null $null $false "No process named '$ProcessName' answered."
    }

    # 3. Each host against its own baseline. The first check of a host starts its history.
    $toSave = [System.Collections.Generic.List[object]]::new()
    $names = Get-MemoryBaseline @storeArgs | Select-Object -ExpandProperty Name -Unique
    foreach ($snapshot in $snapshots) {
        $computer = $snapshot.PSComputerName
        $reference = if ($Baseline -in $names) { Get-MemoryBaseline -Name $Baseline -Host $computer @storeArgs -ErrorAction SilentlyContinue }
        if (-not $reference) {
            Add-Verdict $computer 'Baseline' $Baseline $null $null $true 'No history for this host yet: this snapshot starts it.'
            $toSave.Add($snapshot)
            continue
        }
        try {
            $inputs = @($snapshot) + @(Compare-HeapSnapshot -ReferenceSnapshot $reference -DifferenceSnapshot $snapshot -IncludeUnchanged)
            $results = @($inputs | Test-MemoryThreshold -Rule $Rule -WarningAction SilentlyContinue)
        } catch {
            # One host's check failing (a rule's baseline missing, a bad snapshot) is that host's failed row.
            Add-Verdict $computer 'Check' $Baseline $null $null $false "$($_.FullyQualifiedErrorId.Split(',')[0]): $($_.Exception.Message)"
            continue
        }
        foreach ($r in $results) { Add-Verdict $computer $r.Rule $r.Subject $r.Observed $r.Limit $r.Passed $r.Message $r.Severity }
        if (-not ($results | Where-Object IsViolation)) { $toSave.Add($snapshot) }
    }

    # 4. The passing hosts' snapshots become their newest baseline entries (one lock, one write).
    if ($toSave.Count -gt 0) { $toSave | Save-MemoryBaseline -Name $Baseline -MaxHistory $MaxHistory @storeArgs }
}
finally {
    $sessions | Remove-PSSession
}

# 5. One table, failures first; the exit code says whether the fleet passed (a failed Warning rule does not fail it).
$verdicts | Sort-Object Passed, Host, Rule
exit $(if ($verdicts | Where-Object { -not $_.Passed -and $_.Severity -ne 'Warning' }) { 1 } else { 0 })

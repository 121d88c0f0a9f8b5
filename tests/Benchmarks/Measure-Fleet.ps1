<#
    The fleet check at 1, 4 and 8 hosts, and what one host sends home.

    Each host is a real sshd on its own loopback address with its own TestTarget (tests/MemoryOps.Tests/TestFleet.psm1),
    so all of them share this machine's cores: on 2 cores, 8 hosts' snapshots compete for the same CPUs, which real
    hosts would not. The table therefore shows both the whole runbook (docs/examples/Invoke-FleetMemoryCheck.ps1,
    sessions included) and the fan-out alone (Invoke-Command over open sessions), with the CPU the targets and
    collectors used, so the wall time can be read against the work done.

    Writes its section of docs/performance.md between the fleet markers (Invoke-Benchmark.ps1 keeps it):
        dotnet pwsh ./tests/Benchmarks/Measure-Fleet.ps1
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/MemoryOps/0.1.0/MemoryOps.psd1'),
    [int[]] $HostCount = @(1, 4, 8),
    [int] $Runs = 3,
    [int] $Orders = 20000,
    [int] $Types = 50000,
    [string] $OutputPath = (Join-Path $PSScriptRoot '../../docs/performance.md')
)

$ErrorActionPreference = 'Stop'
$root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$env:MEMORYOPS_MODULE_PATH = (Resolve-Path $ModulePath).Path
Import-Module $env:MEMORYOPS_MODULE_PATH -Force
Import-Module (Join-Path $root 'tests/MemoryOps.Tests/TestTarget.psm1') -Force
Import-Module (Join-Path $root 'tests/MemoryOps.Tests/TestFleet.psm1') -Force
$runbook = Join-Path $root 'docs/examples/Invoke-FleetMemoryCheck.ps1'
$ssh = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }

function Median([double[]] $v) { $s = $v | Sort-Object; $s[[int][math]::Floor(($s.Count - 1) / 2)] }
# CPU seconds (user + system) of this machine, from /proc/stat (clock ticks of 1/100 s).
function CpuSeconds { $f = (Get-Content /proc/stat -TotalCount 1) -split '\s+'; ([long]$f[1] + [long]$f[2] + [long]$f[3]) / 100.0 }

$max = ($HostCount | Measure-Object -Maximum).Maximum
Write-Host "Starting $max hosts..."
$fleet = Start-TestFleet -Count $max -Orders $Orders
$rows = @()
try {
    $store = Join-Path $fleet.Root 'store'
    $rules = @(New-MemoryRule -Name growth -TypeName 'OrderService.*' -MaxBytesGrowth 10MB)
    foreach ($n in $HostCount) {
        $addresses = @($fleet.Hosts.Address | Select-Object -First $n)
        $whole = @(); $fanOut = @(); $cpu = @()
        for ($r = 0; $r -lt $Runs; $r++) {
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $verdicts = & $runbook -HostName $addresses -Port $fleet.Port -UserName root -KeyFilePath $fleet.KeyFile -SshOption $ssh `
                -ProcessName TestTarget -Baseline "fleet$n" -Store $store -Rule $rules -ThrottleLimit 32
            $whole += $sw.Elapsed.TotalSeconds
            if ($LASTEXITCODE -ne 0) { throw "The fleet check of $n hosts failed: $($verdicts | Out-String)" }

            $sessions = @(New-TestFleetSession $fleet -Address $addresses)
            try {
                $c0 = CpuSeconds
                $sw.Restart()
                $snapshots = @(Invoke-Command -Session $sessions -ThrottleLimit 32 { Get-DotNetProcess -Name TestTarget | New-HeapSnapshot })
                $fanOut += $sw.Elapsed.TotalSeconds
                $cpu += (CpuSeconds) - $c0
                if ($snapshots.Count -ne $n) { throw "$n hosts gave $($snapshots.Count) snapshots." }
            } finally { $sessions | Remove-PSSession }
        }
        $rows += [pscustomobject]@{ Hosts = $n; Whole = (Median $whole); FanOut = (Median $fanOut); Cpu = (Median $cpu) }
        Write-Host ("{0} hosts: runbook {1:N2} s, fan-out {2:N2} s, {3:N1} CPU-s" -f $n, $rows[-1].Whole, $rows[-1].FanOut, $rows[-1].Cpu)
    }

    # What one host sends home: a snapshot of $Types types, made on the host, brought back over the session.
    $session = New-TestFleetSession $fleet -Address $fleet.Hosts[0].Address
    try {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $big = Invoke-Command -Session $session -ArgumentList $Types {
            param($count)
            Import-Module MemoryOps   # the type literal below needs the module loaded first
            $s = [MemoryOps.HeapSnapshot]@{ ProcessName = 'synthetic'; Source = 'Process'; Timestamp = [DateTime]::UtcNow }
            for ($i = 0; $i -lt $count; $i++) {
                $s.Types.Add([MemoryOps.HeapTypeStat]@{ TypeName = "Synthetic.Namespace$($i % 97).Type$i<System.String, System.Int32>"; Count = $i + 1; TotalBytes = 24L * ($i + 1) })
            }
            $s
        }
        $homeSeconds = $sw.Elapsed.TotalSeconds
    } finally { $session | Remove-PSSession }
    if ($big.Types.Count -ne $Types) { throw "The $Types-type snapshot came home with $($big.Types.Count) types." }
    # The CLIXML PowerShell remoting sends for it (PSRP frames it, SSH encrypts it; neither compresses).
    $clixml = [Text.Encoding]::UTF8.GetByteCount([Management.Automation.PSSerializer]::Serialize($big, 2))
    $file = Join-Path $fleet.Root 'big.json.gz'
    $big | Export-HeapSnapshot -Path $file
    $gz = (Get-Item $file).Length
}
finally {
    Stop-TestFleet $fleet
}

$md = [Text.StringBuilder]::new()
function L([string] $s = '') { [void]$md.AppendLine($s) }
L '<!-- fleet:begin -->'
L '## A fleet from one console (remoting)'
L
L ("Measured {0:yyyy-MM-dd} on this machine ({1} cores, load {2} at the end) by ``tests/Benchmarks/Measure-Fleet.ps1``: every host is a real sshd on its own loopback address with its own TestTarget ({3:N0} orders), medians of {4} runs." -f (Get-Date), [Environment]::ProcessorCount, ((Get-Content /proc/loadavg) -split ' ')[0], $Orders, $Runs)
L
L '| hosts | whole runbook (sessions, snapshots, compare, save) | fan-out alone (Invoke-Command -ThrottleLimit 32 over open sessions) | CPU used by the fan-out (all processes) |'
L '|---|---|---|---|'
foreach ($r in $rows) { L ("| {0} | {1:N2} s | {2:N2} s | {3:N1} CPU-s |" -f $r.Hosts, $r.Whole, $r.FanOut, $r.Cpu) }
L
$one = $rows | Where-Object Hosts -eq 1
$last = $rows[-1]
if ($one -and $last.Hosts -gt 1) {
    L ("Going from 1 to {0} hosts multiplies the fan-out's wall time by {1:N1} while the work (CPU-s) grows {2:N1}×: the snapshots run at once, and on {3} cores the wall time follows the CPU the hosts' own pwsh start-ups and heap walks need, not the number of hosts. On real hosts each has its own cores, so the fan-out stays near one host's time up to -ThrottleLimit; the controller's own share per host is opening the SSH session and rebuilding the snapshot." -f $last.Hosts, ($last.FanOut / $one.FanOut), ($last.Cpu / [math]::Max($one.Cpu, 0.01)), [Environment]::ProcessorCount)
    L
}
L ("One host sends home {0:N0} KB of CLIXML for a snapshot of {1:N0} types (PowerShell remoting does not compress; the same snapshot is {2:N0} KB as .json.gz); it took {3:N2} s to make there and bring home over one session." -f ($clixml / 1KB), $Types, ($gz / 1KB), $homeSeconds)
L "Reproduce: ``dotnet pwsh ./tests/Benchmarks/Measure-Fleet.ps1`` (after ``build.ps1 -Task Build``)."
L '<!-- fleet:end -->'
$section = $md.ToString().TrimEnd()
$text = if (Test-Path $OutputPath) { Get-Content $OutputPath -Raw } else { '' }
if ($text -match '(?s)<!-- fleet:begin -->.*?<!-- fleet:end -->') {
    $text = [regex]::Replace($text, '(?s)<!-- fleet:begin -->.*?<!-- fleet:end -->', [Text.RegularExpressions.MatchEvaluator] { param($m) $section })
} elseif ($text -match '## Reproduce') {
    $text = $text.Replace('## Reproduce', "$section`n`n## Reproduce")
} else { $text = $text.TrimEnd() + "`n`n$section`n" }
Set-Content -Path $OutputPath -Value $text.TrimEnd() -NoNewline
Write-Host $section

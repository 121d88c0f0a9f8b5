<#
    Export-MemoryReport at size: 100,000 counter samples and a snapshot of 50,000 types (tests/MemoryOps.Tests/
    ReportBrowser.psm1, New-LargeReportInput), as the Pester test makes them. Measures the cmdlet's wall time, the
    file's size, and how long the page takes to open in headless Chromium, by the page's own clock (navigation start
    to every chart drawn, performance.now()), over several loads. No Microsoft tool makes such a page: no anchor.

    Writes its section of docs/performance.md between the report markers (Invoke-Benchmark.ps1 keeps it):
        dotnet pwsh ./tests/Benchmarks/Measure-Report.ps1
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/MemoryOps/0.1.0/MemoryOps.psd1'),
    [int] $Loads = 5,
    [string] $OutputPath = (Join-Path $PSScriptRoot '../../docs/performance.md')
)

$ErrorActionPreference = 'Stop'
$root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
Import-Module (Resolve-Path $ModulePath).Path -Force
Import-Module (Join-Path $root 'tests/MemoryOps.Tests/TestFleet.psm1') -Force   # Install-DebianPackage
Import-Module (Join-Path $root 'tests/MemoryOps.Tests/ReportBrowser.psm1') -Force
Install-DebianPackage -Command chromium -Package chromium

function Median([double[]] $v) { $s = $v | Sort-Object; $s[[int][math]::Floor(($s.Count - 1) / 2)] }

$dir = Join-Path ([IO.Path]::GetTempPath()) "memoryops-report-bench-$PID"
New-Item -ItemType Directory $dir -Force | Out-Null
try {
    $big = New-LargeReportInput
    $path = Join-Path $dir 'big.html'
    $export = Measure-Command { $big | Export-MemoryReport -Path $path -ErrorAction Stop }
    $size = (Get-Item $path).Length
    $loaded = [Collections.Generic.List[double]]::new(); $charts = [Collections.Generic.List[double]]::new(); $walls = [Collections.Generic.List[double]]::new()
    foreach ($i in 1..$Loads) {
        $wall = [Diagnostics.Stopwatch]::StartNew()
        $page = Get-DrawnSummary $path
        $walls.Add($wall.Elapsed.TotalSeconds)
        if ($page.Summary.errors -or $page.Console) { throw "The page reported errors: $($page.Summary.errors) $($page.Console)" }
        $loaded.Add($page.Summary.loadedMs); $charts.Add($page.Summary.chartMs)
    }
    $version = (Invoke-Chromium @('--version')).Out.Trim()
    if (-not $version) { $version = (& chromium --version 2>$null) }
    $load = ((Get-Content /proc/loadavg) -split ' ')[0]
    $section = @"
<!-- report:begin -->
## A report of 100,000 samples and 50,000 types (Export-MemoryReport)

Measured $(Get-Date -Format 'yyyy-MM-dd') on this machine (2 cores, load $load at the end) by ``tests/Benchmarks/Measure-Report.ps1``: 2 hosts x 2 processes x 5 counters x 5,000 samples and one snapshot of 50,000 types, piped to ``Export-MemoryReport``; the page opened $Loads times in headless Chromium ($version). No Microsoft tool writes such a page, so there is no anchor.

| what | figure |
|---|---|
| ``Export-MemoryReport`` of the 100,001 objects (pipeline included) | $('{0:N2}' -f $export.TotalSeconds) s |
| the file | $('{0:N2}' -f ($size / 1MB)) MB (limit 10 MB) |
| page open, navigation start to every chart drawn (the page's performance.now()), median / best / worst | $('{0:N0}' -f (Median $loaded)) / $('{0:N0}' -f ($loaded | Measure-Object -Minimum).Minimum) / $('{0:N0}' -f ($loaded | Measure-Object -Maximum).Maximum) ms (limit 2,000 ms) |
| of which Chart.js configuration and drawing, median | $('{0:N0}' -f (Median $charts)) ms |
| Chromium's whole run (start, load, DOM dump, exit), median | $('{0:N2}' -f (Median $walls)) s |

Reproduce: ``dotnet pwsh ./tests/Benchmarks/Measure-Report.ps1`` (after ``build.ps1 -Task Build``).
<!-- report:end -->
"@
    $text = if (Test-Path $OutputPath) { Get-Content $OutputPath -Raw } else { '' }
    if ($text -match '(?s)<!-- report:begin -->.*?<!-- report:end -->') {
        $text = [regex]::Replace($text, '(?s)<!-- report:begin -->.*?<!-- report:end -->', [Text.RegularExpressions.MatchEvaluator] { param($m) $section })
    } elseif ($text -match '(?m)^## Reproduce') {
        $text = [regex]::Replace($text, '(?m)^## Reproduce', ($section + "`n`n## Reproduce"), 1)
    } else { $text = $text.TrimEnd() + "`n`n" + $section }
    Set-Content -Path $OutputPath -Value $text.TrimEnd() -NoNewline
    Write-Host $section
} finally { Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue }

# Headless Chromium for Export-MemoryReport's tests and benchmark: load a report, read back what it drew.

function Invoke-Chromium {
    <# One headless Chromium run with its own throw-away profile (root needs --no-sandbox), bounded in time. Console
       messages go to stderr (--enable-logging=stderr) as "INFO:CONSOLE" lines. Returns Out, Err and ExitCode. #>
    param([Parameter(Mandatory)] [string[]] $Arguments, [int] $TimeoutSeconds = 90)
    $userData = Join-Path ([IO.Path]::GetTempPath()) "memoryops-chromium-$PID-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $psi = [Diagnostics.ProcessStartInfo]::new((Get-Command chromium).Source)
    foreach ($a in @('--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--hide-scrollbars', '--mute-audio',
                     "--user-data-dir=$userData", '--enable-logging=stderr', '--v=0') + $Arguments) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false; $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true
    $p = [Diagnostics.Process]::Start($psi)
    $out = $p.StandardOutput.ReadToEndAsync(); $err = $p.StandardError.ReadToEndAsync()
    try {
        if (-not $p.WaitForExit($TimeoutSeconds * 1000)) { $p.Kill($true); throw "chromium did not finish within $TimeoutSeconds s: $Arguments" }
        $p.WaitForExit()
        [pscustomobject]@{ Out = $out.Result; Err = $err.Result; ExitCode = $p.ExitCode }
    } finally { $p.Dispose(); Remove-Item $userData -Recurse -Force -ErrorAction SilentlyContinue }
}

function Get-DrawnSummary {
    <# Loads a report and returns the summary its script wrote into pre#memoryops-drawn (from Chart.js's own chart
       objects), the console lines Chromium logged, and the DOM after the scripts ran. #>
    param([Parameter(Mandatory)] [string] $Path)
    $run = Invoke-Chromium @('--dump-dom', [Uri]::new($Path).AbsoluteUri)   # a cast to [Uri] would leave a Unix path relative
    if ($run.Out -notmatch '<pre id="memoryops-drawn">([^<]*)</pre>') { throw "No summary in the page Chromium loaded (exit $($run.ExitCode)): $($run.Err)" }
    $summary = [Net.WebUtility]::HtmlDecode($Matches[1]) | ConvertFrom-Json
    $console = @($run.Err -split "`n" | Where-Object { $_ -match ':CONSOLE' })
    [pscustomobject]@{ Summary = $summary; Console = $console; Dom = $run.Out }
}

function New-LargeReportInput {
    <# 100,000 counter samples (2 hosts x 2 processes x 5 counters x 5,000, one a second) and a snapshot of 50,000 types. #>
    $start = [datetime]::new(2026, 11, 30, 0, 0, 0, [DateTimeKind]::Utc)
    $big = [Collections.Generic.List[object]]::new()
    foreach ($hostName in 'web1', 'web2') {
        foreach ($procId in 100, 200) {
            foreach ($counter in @(@('gc-heap-size', 'bytes'), @('gen-2-size', 'bytes'), @('working-set', 'bytes'), @('alloc-rate', 'bytes/s'), @('time-in-gc', 'percent'))) {
                for ($i = 0; $i -lt 5000; $i++) {
                    $s = [MemoryOps.CounterSample]::new()
                    $s.Timestamp = $start.AddSeconds($i); $s.Host = $hostName; $s.ProcessId = $procId; $s.ProcessName = 'orders'
                    $s.Name = $counter[0]; $s.Unit = $counter[1]; $s.Value = 100MB + $i * 4096 + ($i % 17) * 65536
                    $big.Add($s)
                }
            }
        }
    }
    $snapshot = [MemoryOps.HeapSnapshot]::new()
    $snapshot.Host = 'web1'; $snapshot.ProcessId = 100; $snapshot.ProcessName = 'orders'; $snapshot.Timestamp = $start.AddSeconds(5000)
    for ($i = 0; $i -lt 50000; $i++) {
        $t = [MemoryOps.HeapTypeStat]::new(); $t.TypeName = "Generated.Namespace.Type$i<System.String, Generated.Value$i>[]"; $t.Count = $i + 1; $t.TotalBytes = 50000 - $i + 100
        $snapshot.Types.Add($t)
    }
    $big.Add($snapshot)
    , $big
}

Export-ModuleMember -Function Invoke-Chromium, Get-DrawnSummary, New-LargeReportInput

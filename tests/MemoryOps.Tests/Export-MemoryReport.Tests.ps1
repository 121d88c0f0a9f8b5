# Export-MemoryReport, looked at in a real browser: headless Chromium (Debian's package, installed when missing) opens
# reports made from the TestTarget's real counters, GC events, snapshots, comparison, verdicts and retention paths.
# What it drew is read back from the page's own summary, which report.js writes from Chart.js's chart objects (the
# datasets and the elements Chart.js made for them) and the canvases' pixels; the expected figures come from the
# objects that went into the report, counted here.
BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'TestFleet.psm1') -Force   # Install-DebianPackage
    Import-Module (Join-Path $PSScriptRoot 'ReportBrowser.psm1') -Force   # Invoke-Chromium, Get-DrawnSummary, New-LargeReportInput
    Install-DebianPackage -Command chromium -Package chromium

    $script:artifacts = Join-Path $PSScriptRoot '../../out/TestResults'
    New-Item -ItemType Directory $artifacts -Force | Out-Null
    $script:work = Join-Path $TestDrive 'report'
    New-Item -ItemType Directory $work | Out-Null

    function Get-MetricName($sample) {
        # A counter's series name (the name Test-MemoryThreshold's Subject uses): tags in brackets, sorted.
        if ($sample.Tags.Count -eq 0) { return $sample.Name }
        $sample.Name + '[' + (($sample.Tags.GetEnumerator() | ForEach-Object { "$($_.Key)=$($_.Value)" } | Sort-Object -CaseSensitive) -join ',') + ']'
    }

    # The leak story, for real: two services, one of which leaks.
    $script:targets = @(Start-TestTarget; Start-TestTarget)
    $script:leaky = $targets[0]
    foreach ($t in $targets) { Send-TestTarget $t 'churn on' | Out-Null }
    $script:before = New-HeapSnapshot -ProcessId $leaky.ProcessId
    Send-TestTarget $leaky 'leak 200000' | Out-Null
    $script:counters = @(Get-GcCounter -ProcessId $targets.ProcessId -Counter gc-heap-size, gen-2-size, time-in-gc, alloc-rate -MaxSamples 4)
    # Churn makes collections; ask again until some were seen (bounded), however busy the machine is.
    $script:gcs = @()
    foreach ($try in 1..5) { $gcs = @(Get-GcEvent -ProcessId $leaky.ProcessId -Duration 2); if ($gcs.Count -gt 0) { break } }
    foreach ($t in $targets) { Send-TestTarget $t 'churn off' | Out-Null }
    $script:after = New-HeapSnapshot -ProcessId $leaky.ProcessId
    $script:deltas = @(Compare-HeapSnapshot -ReferenceSnapshot $before -DifferenceSnapshot $after -Top 30)
    $rules = @(
        New-MemoryRule -Name heap-small -Counter gc-heap-size -Maximum 256KB   # every .NET heap is bigger: fails
        New-MemoryRule -Name gc-share -Counter time-in-gc -Maximum 100       # a share cannot exceed 100 %: passes
        New-MemoryRule -Name orders-growth -TypeName 'OrderService.*' -MaxBytesGrowth 1MB
    )
    $script:verdicts = @(@($counters) + @($deltas) | Test-MemoryThreshold -Rule $rules)
    $script:paths = @(Get-HeapRetention -ProcessId $leaky.ProcessId -TypeName OrderService.OrderStat)
    $script:inputs = @($counters) + @($gcs) + @($before, $after) + @($deltas) + @($verdicts) + @($paths)

    $script:reportPath = Join-Path $work 'leak.html'
    $script:file = $inputs | Export-MemoryReport -Path $reportPath -Title 'The leak' -PassThru
    $script:seen = Get-DrawnSummary $reportPath
}

AfterAll {
    $script:targets | Stop-TestTarget
}

Describe 'Export-MemoryReport in headless Chromium, from the TestTarget''s real data' {
    It 'had every kind of input to show' {
        $counters.Count | Should -BeGreaterThan 0
        $gcs.Count | Should -BeGreaterThan 0
        @($verdicts | Where-Object { -not $_.Passed }).Count | Should -BeGreaterThan 0
        @($verdicts | Where-Object Passed).Count | Should -BeGreaterThan 0
        $paths.Count | Should -BeGreaterThan 0
        ($deltas | Where-Object TypeName -eq 'OrderService.OrderStat').CountDelta | Should -Be 200000
    }

    It 'writes one file and returns it with -PassThru' {
        $file | Should -BeOfType ([IO.FileInfo])
        $file.FullName | Should -Be $reportPath
        $file.Length | Should -BeGreaterThan 0
        Get-Content $reportPath -TotalCount 1 | Should -Be '<!DOCTYPE html>'
        Get-Content $reportPath -Raw | Should -Not -Match '(src|href)="(https?:)?//' -Because 'the page needs no network'
    }

    It 'loads without a console message or a script error' {
        $seen.Console | Should -BeNullOrEmpty
        $seen.Summary.errors | Should -BeNullOrEmpty
    }

    It 'draws one counter chart per unit, each process''s series with all its samples, and the rule''s limit and breaches' {
        $units = @($counters | Group-Object Unit)
        $drawn = @($seen.Summary.charts | Where-Object id -like 'chart-counters-*')
        $drawn.Count | Should -Be $units.Count
        foreach ($chart in $drawn) {
            $chart.ink | Should -BeGreaterThan 0
            $chart.datasets | Where-Object points -eq 0 | Should -BeNullOrEmpty
        }
        $datasets = @($drawn.datasets)
        foreach ($series in $counters | Group-Object { Get-MetricName $_ }, ProcessId) {
            $label = "$(Get-MetricName $series.Group[0]) · $($series.Group[0].ProcessName) ($($series.Group[0].ProcessId))"
            $match = @($datasets | Where-Object label -eq $label)
            $match.Count | Should -Be 1 -Because "series '$label' is drawn once"
            $match[0].points | Should -Be $series.Count -Because "every sample of '$label' is a point"
        }
        # heap-small failed on both processes: one limit line (same rule, same limit) and one breach set per process.
        @($datasets | Where-Object label -like 'limit of heap-small*').Count | Should -Be 1
        @($datasets | Where-Object label -like 'limit of gc-share*').Count | Should -Be 1
        foreach ($procId in $targets.ProcessId) {
            $breach = @($datasets | Where-Object label -like "broke heap-small: gc-heap-size · * ($procId)")
            $breach.Count | Should -Be 1
            $breach[0].points | Should -Be @($counters | Where-Object { $_.Name -eq 'gc-heap-size' -and $_.ProcessId -eq $procId -and $_.Value -gt 256KB }).Count
        }
        $datasets.Count | Should -Be (@($counters | Group-Object { Get-MetricName $_ }, ProcessId).Count + 2 + 2)
    }

    It 'draws the GC pauses of every generation seen and the pause-time share' {
        $pauses = @($seen.Summary.charts | Where-Object id -like 'chart-gc-*')
        $pauses.Count | Should -Be 1
        $pauses[0].ink | Should -BeGreaterThan 0
        $byGen = @($gcs | Group-Object { [Math]::Min($_.Generation, 2) } | Sort-Object { [int]$_.Name })
        $pauses[0].datasets.Count | Should -Be $byGen.Count
        for ($i = 0; $i -lt $byGen.Count; $i++) {
            $pauses[0].datasets[$i].label | Should -BeLike "gen$($byGen[$i].Name) · *"
            $pauses[0].datasets[$i].points | Should -Be $byGen[$i].Count
        }
        $share = @($seen.Summary.charts | Where-Object id -like 'chart-gcshare-*')
        $share.Count | Should -Be 1
        $share[0].datasets[0].points | Should -Be 1
        $share[0].ink | Should -BeGreaterThan 0
    }

    It 'draws the top types of each snapshot and the top growth, as bars' {
        $heap = @($seen.Summary.charts | Where-Object id -like 'chart-heap-*')
        $heap.Count | Should -Be 2
        foreach ($chart in $heap) {
            $chart.type | Should -Be 'bar'
            $chart.datasets[0].points | Should -Be ([Math]::Min(15, $after.Types.Count))
            $chart.ink | Should -BeGreaterThan 0
        }
        $growth = @($seen.Summary.charts | Where-Object id -like 'chart-growth-*')
        $growth.Count | Should -Be 1
        $growth[0].datasets[0].points | Should -Be ([Math]::Min(15, @($deltas | Where-Object BytesDelta -gt 0).Count))
        $seen.Summary.charts.Count | Should -Be (@($counters | Group-Object Unit).Count + 2 + 2 + 1)
    }

    It 'shows the retention path as a chain, and the verdicts failures first' {
        $html = Get-Content $reportPath -Raw
        $chains = [regex]::Matches($html, '<ol class="chain">(.*?)</ol>') | ForEach-Object {
            ([regex]::Matches($_.Groups[1].Value, '<li>(.*?)</li>') | ForEach-Object { [Net.WebUtility]::HtmlDecode($_.Groups[1].Value) }) -join ' → '
        }
        $chains | Should -Be @($paths | Sort-Object TotalBytes, Count -Descending | Select-Object -First 10 -ExpandProperty Path)
        $results = [regex]::Matches($html, '<tr><td class="(fail|warn|pass)">') | ForEach-Object { $_.Groups[1].Value }
        $results.Count | Should -Be $verdicts.Count
        $failed = @($verdicts | Where-Object { -not $_.Passed }).Count
        $results[0..($failed - 1)] | Should -Not -Contain 'pass'
        $results[$failed..($results.Count - 1)] | Should -Not -Contain 'fail'
    }

    It 'keeps a screenshot as a test artifact' {
        $png = Join-Path (Resolve-Path $artifacts) 'Export-MemoryReport.png'
        Remove-Item $png -ErrorAction SilentlyContinue
        $run = Invoke-Chromium @('--window-size=1280,3200', "--screenshot=$png", [Uri]::new($reportPath).AbsoluteUri)
        $png | Should -Exist -Because $run.Err
        $bytes = [IO.File]::ReadAllBytes($png)
        $bytes[1..3] | Should -Be ([byte[]][char[]]'PNG')
        $bytes.Length | Should -BeGreaterThan 50KB
    }
}

Describe 'Export-MemoryReport inputs and files' {
    It 'takes an array given to -InputObject item by item, and counts a Get-ProcessMemory reading as one input' {
        $path = Join-Path $work 'by-parameter.html'
        $out = Export-MemoryReport -InputObject @($counters) -Path $path -PassThru -Verbose -ErrorAction Stop 4>&1
        $file = $out | Where-Object { $_ -is [IO.FileInfo] }
        $file.FullName | Should -Be $path
        ($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Match "Report of $(@($counters).Count) inputs"
        $sleep = Start-NonDotNetProcess
        try {
            $verbose = Get-ProcessMemory -ProcessId $sleep.Id | Export-MemoryReport -Path (Join-Path $work 'one-reading.html') -Verbose 4>&1
            ($verbose | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Match 'Report of 1 inputs'
        } finally { $sleep.Kill(); $sleep.WaitForExit(); $sleep.Dispose() }
    }

    It 'reports an unsupported input as UnsupportedInput and writes the rest' {
        $path = Join-Path $work 'mixed.html'
        $errors = $null
        $out = @('a string'; $counters; Get-Item $work) | Export-MemoryReport -Path $path -PassThru -ErrorVariable errors -ErrorAction SilentlyContinue
        @($errors).Count | Should -Be 2
        $errors | ForEach-Object { $_.FullyQualifiedErrorId | Should -BeLike 'UnsupportedInput,*'; $_.CategoryInfo.Category | Should -Be 'InvalidType' }
        $errors[0].TargetObject | Should -Be 'a string'
        $out.FullName | Should -Be $path
        $drawn = (Get-DrawnSummary $path).Summary
        @($drawn.charts).Count | Should -Be @($counters | Group-Object Unit).Count
    }

    It 'takes the deserialized forms (Export-Clixml, Import-Clixml) to the same charts' {
        $xml = Join-Path $work 'inputs.xml'
        $inputs | Export-Clixml $xml -Depth 5
        $path = Join-Path $work 'imported.html'
        Import-Clixml $xml | Export-MemoryReport -Path $path -ErrorAction Stop
        $again = (Get-DrawnSummary $path).Summary
        ($again.charts | ForEach-Object { "$($_.id):$(($_.datasets | ForEach-Object { "$($_.label)=$($_.points)" }) -join ';')" }) |
            Should -Be ($seen.Summary.charts | ForEach-Object { "$($_.id):$(($_.datasets | ForEach-Object { "$($_.label)=$($_.points)" }) -join ';')" })
    }

    It 'replaces an earlier report, refuses a foreign file without -Force and a FIFO even with it, and writes nothing with -WhatIf' {
        $path = Join-Path $work 'again.html'
        $counters | Export-MemoryReport -Path $path
        $counters | Export-MemoryReport -Path $path -ErrorAction Stop   # its own earlier report: replaced
        $foreign = Join-Path $work 'notes.html'
        Set-Content $foreign 'mine'
        # Where the report goes is checked before any input is taken: the command stops at once, nothing gathered is lost later.
        $taken = 0
        $e = $null
        try { $counters | ForEach-Object { $taken++; $_ } | Export-MemoryReport -Path $foreign -ErrorAction Stop } catch { $e = $_ }
        $e.FullyQualifiedErrorId | Should -BeLike 'FileExists,*'
        $e.TargetObject | Should -Be $foreign
        $taken | Should -Be 0
        $e = $null
        try { $counters | Export-MemoryReport -Path (Join-Path $work 'no-such-folder/r.html') -ErrorAction Stop } catch { $e = $_ }
        $e.FullyQualifiedErrorId | Should -BeLike 'PathNotFound,*'
        Get-Content $foreign | Should -Be 'mine'
        $counters | Export-MemoryReport -Path $foreign -Force -ErrorAction Stop
        Get-Content $foreign -TotalCount 1 | Should -Be '<!DOCTYPE html>'
        $fifo = Join-Path $work 'fifo.html'
        mkfifo $fifo
        $e = $null
        try { $counters | Export-MemoryReport -Path $fifo -Force -ErrorAction Stop } catch { $e = $_ }
        $e.FullyQualifiedErrorId | Should -BeLike 'UnsafeFile,*'
        $whatIf = Join-Path $work 'whatif.html'
        $counters | Export-MemoryReport -Path $whatIf -WhatIf
        $whatIf | Should -Not -Exist
    }

    It 'cannot be made to run a hostile type name: it shows as text' {
        $hostile = "</script><script>document.title='pwned'</script><img id=pwned src=x onerror=alert(1)>"
        $snap = Import-Clixml -Path (& { $x = Join-Path $work 'snap.xml'; $after | Export-Clixml $x -Depth 5; $x })
        $snap.Types[0].TypeName = $hostile
        $path = Join-Path $work 'hostile.html'
        $snap | Export-MemoryReport -Path $path -Title $hostile -ErrorAction Stop
        $page = Get-DrawnSummary $path
        $page.Summary.errors | Should -BeNullOrEmpty
        $page.Console | Should -BeNullOrEmpty
        $page.Dom | Should -Not -Match '<img id="?pwned'
        $page.Dom | Should -Match '<title>&lt;/script&gt;&lt;script&gt;document.title=''pwned''&lt;/script&gt;'
        ($page.Summary.charts | Where-Object id -like 'chart-heap-*').datasets[0].points | Should -Be 15
    }
}

Describe 'Export-MemoryReport at size: 100,000 samples and 50,000 types' {
    BeforeAll {
        # Two hosts x 2 processes x 5 counters x 5,000 samples (one a second), and a snapshot of 50,000 types.
        $big = New-LargeReportInput
        $script:bigPath = Join-Path $work 'big.html'
        $big | Export-MemoryReport -Path $bigPath -ErrorAction Stop
        $script:bigSamples = ($big | Where-Object { $_ -is [MemoryOps.CounterSample] }).Count
    }

    It 'has 100,000 samples, stays under 10 MB and draws every series' {
        $bigSamples | Should -Be 100000
        (Get-Item $bigPath).Length | Should -BeLessThan 10MB
        $page = Get-DrawnSummary $bigPath
        $page.Summary.errors | Should -BeNullOrEmpty
        $page.Console | Should -BeNullOrEmpty
        $charts = @($page.Summary.charts)
        $charts.Count | Should -Be 4   # bytes, bytes/s, percent; the snapshot's top types
        ($charts | Where-Object id -like 'chart-counters-*' | ForEach-Object { $_.datasets.Count } | Measure-Object -Sum).Sum | Should -Be 20
        foreach ($chart in $charts) { $chart.ink | Should -BeGreaterThan 0; $chart.datasets | Where-Object points -eq 0 | Should -BeNullOrEmpty }
    }

    It 'opens in under 2 s (navigation start to every chart drawn, measured by the page)' {
        # The page's own clock, not Chromium's start-up. A busy machine can slow one load: the best of three counts.
        $times = foreach ($try in 1..3) {
            $ms = (Get-DrawnSummary $bigPath).Summary.loadedMs
            $ms
            if ($ms -lt 2000) { break }
        }
        Write-Host "big report: $([Math]::Round((Get-Item $bigPath).Length / 1MB, 2)) MB, loaded in $($times -join ', ') ms"
        ($times | Measure-Object -Minimum).Minimum | Should -BeLessThan 2000
    }
}

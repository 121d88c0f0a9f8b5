# Metrics into the monitoring stack, proven against the real thing: promtool checks every file the module writes;
# a prometheus-node-exporter reads them with its textfile collector, a prometheus-pushgateway takes pushes, and a
# prometheus server scrapes both (and an OpenMetrics page) on loopback; the test asks it over its HTTP API for the
# values the module wrote. Debian's packages are installed when missing; every server is stopped after.
BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'TestFleet.psm1') -Force   # Install-DebianPackage
    Install-DebianPackage -Command promtool -Package prometheus
    Install-DebianPackage -Command prometheus-node-exporter -Package prometheus-node-exporter
    Install-DebianPackage -Command prometheus-pushgateway -Package prometheus-pushgateway

    $script:orders = 20000
    $script:target = Start-TestTarget
    Send-TestTarget $target "leak $orders" | Out-Null
    $script:snapshot = New-HeapSnapshot -ProcessId $target.ProcessId
    $script:samples = Get-GcCounter -ProcessId $target.ProcessId -Counter gc-heap-size, alloc-rate, time-in-gc -MaxSamples 2
    $script:meter = Get-GcCounter -ProcessId $target.ProcessId -Counter dotnet.gc.last_collection.heap.size -MaxSamples 1
    $script:summary = Get-GcEvent -ProcessId $target.ProcessId -Duration 2 -Summary
    $script:results = $snapshot | Test-MemoryThreshold -Rule (New-MemoryRule -Name heap -Counter TotalBytes -Maximum 1GB), (New-MemoryRule -Name orders -TypeName 'OrderService.OrderStat' -MaxCount 10)
    $script:all = @($samples) + @($meter) + @($summary) + @($snapshot) + @($results)
    $script:work = Join-Path $TestDrive 'metrics'
    New-Item -ItemType Directory $work | Out-Null

    function Get-FreePort {
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop(); $port
    }
    function Start-Server([string] $Command, [string[]] $Arguments, [int] $Port) {
        $psi = [Diagnostics.ProcessStartInfo]::new((Get-Command $Command).Source)
        foreach ($a in $Arguments) { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false; $psi.RedirectStandardError = $true; $psi.RedirectStandardOutput = $true
        $p = [Diagnostics.Process]::Start($psi)
        $p.BeginErrorReadLine(); $p.BeginOutputReadLine()   # never let a full pipe block the server
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while ($true) {
            if ($p.HasExited) { throw "$Command exited with $($p.ExitCode)." }
            $client = [Net.Sockets.TcpClient]::new()
            try { $client.Connect('127.0.0.1', $Port); break } catch { } finally { $client.Dispose() }
            if ([DateTime]::UtcNow -gt $deadline) { throw "$Command did not listen on $Port within 60 s." }
            Start-Sleep -Milliseconds 100
        }
        $p
    }
    # Asks Prometheus until the query has a result (scrapes come every second), bounded.
    function Invoke-PromQuery([string] $Query) {
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while ($true) {
            $answer = Invoke-RestMethod "http://127.0.0.1:$($script:promPort)/api/v1/query?query=$([uri]::EscapeDataString($Query))"
            if ($answer.data.result.Count -gt 0) { return $answer.data.result }
            if ([DateTime]::UtcNow -gt $deadline) { throw "Prometheus had no result for '$Query' within 60 s." }
            Start-Sleep -Milliseconds 500
        }
    }
}

AfterAll {
    $script:target | Stop-TestTarget
    foreach ($p in $script:servers) { try { if (-not $p.HasExited) { $p.Kill($true); $null = $p.WaitForExit(10000) } } catch { } }
}

Describe 'ConvertTo-OpenMetrics and Export-MemoryMetric' {
    It 'writes files promtool accepts, from every kind of input' {
        $file = Join-Path $work 'all.prom'
        $all | Export-MemoryMetric -Path $file
        $text = Get-Content $file -Raw
        $text | & promtool check metrics 2>&1 | Out-String | Should -BeNullOrEmpty
        $LASTEXITCODE | Should -Be 0
        ($all | ConvertTo-OpenMetrics -Format Prometheus) | & promtool check metrics 2>&1 | Out-String | Should -BeNullOrEmpty
        $LASTEXITCODE | Should -Be 0
        # Readable by a collector running as its own user; the first line marks it as ours.
        (Get-Item $file).UnixMode | Should -Be '-rw-r--r--'
        (Get-Content $file -TotalCount 1) | Should -BeLike '# MemoryOps metrics*'
    }

    It 'names, labels and values each series after its source' {
        $text = $all | ConvertTo-OpenMetrics -Format Prometheus
        $heap = $samples | Where-Object Name -eq 'gc-heap-size' | Select-Object -Last 1
        $labels = "host=""$([Environment]::MachineName)"",pid=""$($target.ProcessId)"",process=""TestTarget"""
        $text | Should -Match ([regex]::Escape("dotnet_gc_heap_size_bytes{$labels} $($heap.Value.ToString('R', [Globalization.CultureInfo]::InvariantCulture))"))
        $text | Should -Match ([regex]::Escape("memoryops_heap_type_bytes{$labels,type=""OrderService.OrderStat""} $($orders * 80)"))
        $text | Should -Match ([regex]::Escape("memoryops_rule_passed{$labels,rule=""orders"",subject=""OrderService.OrderStat"",severity=""Error""} 0"))
        $text | Should -Match 'dotnet_gc_last_collection_heap_size_bytes\{[^}]*gc_heap_generation="gen0"\}'
        $text | Should -Match '# TYPE dotnet_time_in_gc_ratio gauge'
        # At most -Top types per snapshot: cardinality is a cost.
        @([regex]::Matches(($snapshot | ConvertTo-OpenMetrics -Top 3), '(?m)^memoryops_heap_type_bytes\{')).Count | Should -Be 3
    }

    It 'escapes label values and ends OpenMetrics text with # EOF and timestamps' {
        $odd = [MemoryOps.HeapSnapshot]@{ ProcessName = "a""b\c`nd"; ProcessId = 7; Timestamp = [DateTime]::new(2026, 12, 1, 0, 0, 0, [DateTimeKind]::Utc) }
        $odd.Types.Add([MemoryOps.HeapTypeStat]@{ TypeName = 'T'; Count = 1; TotalBytes = 24 })
        $text = $odd | ConvertTo-OpenMetrics
        $text | Should -Match ([regex]::Escape('process="a\"b\\c\nd"'))
        $text | Should -Match '(?m)^memoryops_heap_bytes\{[^}]*\} 0 1796083200$'
        $text.TrimEnd() | Should -BeLike '*# EOF'
    }

    It 'refuses a file it did not write without -Force, and GC records with a hint' {
        $foreign = Join-Path $work 'foreign.prom'
        'some_other_metric 1' | Set-Content $foreign
        $snapshot | Export-MemoryMetric -Path $foreign -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'FileExists,*'
        Get-Content $foreign | Should -Be 'some_other_metric 1'
        $snapshot | Export-MemoryMetric -Path $foreign -Force
        Get-Content $foreign -TotalCount 1 | Should -BeLike '# MemoryOps metrics*'
        # Not even -Force replaces what is not a regular file (a FIFO planted where the collector reads).
        $fifo = Join-Path $work 'planted.prom'
        mkfifo $fifo
        $snapshot | Export-MemoryMetric -Path $fifo -Force -ErrorVariable e3 -ErrorAction SilentlyContinue
        $e3[0].FullyQualifiedErrorId | Should -BeLike 'UnsafeFile,*'
        (& stat -c %F $fifo) | Should -Be 'fifo'
        [MemoryOps.GcEventRecord]@{ ProcessId = 1; Number = 1 } | ConvertTo-OpenMetrics -ErrorVariable e2 -ErrorAction SilentlyContinue | Out-Null
        $e2[0].FullyQualifiedErrorId | Should -BeLike 'UnsupportedInput,*'
        $e2[0].Exception.Message | Should -BeLike '*Get-GcEvent -Summary*'
    }
}

Describe 'Metrics in a real Prometheus' {
    BeforeAll {
        $script:servers = [Collections.Generic.List[object]]::new()
        $script:textDir = Join-Path $work 'textfile'
        New-Item -ItemType Directory $textDir | Out-Null
        $script:nodePort = Get-FreePort
        $servers.Add((Start-Server prometheus-node-exporter @("--web.listen-address=127.0.0.1:$nodePort", "--collector.textfile.directory=$textDir", '--collector.disable-defaults', '--collector.textfile') $nodePort))
        $script:pushPort = Get-FreePort
        $servers.Add((Start-Server prometheus-pushgateway @("--web.listen-address=127.0.0.1:$pushPort", "--persistence.file=$(Join-Path $work 'push.db')") $pushPort))

        # An OpenMetrics page, served with its content type by a tiny HTTP server (python3 is part of Debian's base).
        $script:omDir = Join-Path $work 'om'
        New-Item -ItemType Directory $omDir | Out-Null
        $script:omPort = Get-FreePort
        $serve = Join-Path $work 'serve.py'
        Set-Content $serve @'
import http.server, sys, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = open(os.path.join(sys.argv[2], 'metrics.txt'), 'rb').read()
        self.send_response(200)
        self.send_header('Content-Type', 'application/openmetrics-text; version=1.0.0; charset=utf-8')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
'@
        Set-Content (Join-Path $omDir 'metrics.txt') ''
        $servers.Add((Start-Server python3 @($serve, "$omPort", $omDir) $omPort))

        $script:promPort = Get-FreePort
        $config = Join-Path $work 'prometheus.yml'
        Set-Content $config @"
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: node
    static_configs: [ { targets: ['127.0.0.1:$nodePort'] } ]
  - job_name: pushgateway
    honor_labels: true
    static_configs: [ { targets: ['127.0.0.1:$pushPort'] } ]
  - job_name: openmetrics
    static_configs: [ { targets: ['127.0.0.1:$omPort'] } ]
"@
        $servers.Add((Start-Server prometheus @("--config.file=$config", "--storage.tsdb.path=$(Join-Path $work 'tsdb')", "--web.listen-address=127.0.0.1:$promPort") $promPort))
    }

    It 'answers with the value the module wrote to the textfile collector' {
        $snapshot | Export-MemoryMetric -Path (Join-Path $textDir 'orders.prom')
        $result = Invoke-PromQuery "memoryops_heap_type_bytes{job=""node"",type=""OrderService.OrderStat"",pid=""$($target.ProcessId)""}"
        [double]$result[0].value[1] | Should -Be ($orders * 80)
        $heap = Invoke-PromQuery "memoryops_heap_bytes{job=""node"",pid=""$($target.ProcessId)""}"
        [double]$heap[0].value[1] | Should -Be $snapshot.TotalBytes
    }

    It 'answers with the value pushed to the Pushgateway, grouped by job and instance' {
        $results | Export-MemoryMetric -PushGateway "http://127.0.0.1:$pushPort" -Job nightly-check -Instance web01
        $result = Invoke-PromQuery 'memoryops_rule_passed{job="nightly-check",instance="web01",rule="orders"}'
        [double]$result[0].value[1] | Should -Be 0
        $observed = Invoke-PromQuery 'memoryops_rule_observed{job="nightly-check",instance="web01",rule="orders"}'
        [double]$observed[0].value[1] | Should -Be $orders
    }

    It 'scrapes the OpenMetrics text, timestamps and all' {
        $fresh = Get-GcCounter -ProcessId $target.ProcessId -Counter gc-heap-size -MaxSamples 1
        $fresh | ConvertTo-OpenMetrics | Set-Content (Join-Path $omDir 'metrics.txt') -NoNewline
        $result = Invoke-PromQuery "dotnet_gc_heap_size_bytes{job=""openmetrics"",pid=""$($target.ProcessId)""}"
        [double]$result[0].value[1] | Should -Be $fresh.Value
        # Stored at the sample's own time, not the scrape's.
        $stamp = Invoke-PromQuery "timestamp(dotnet_gc_heap_size_bytes{job=""openmetrics"",pid=""$($target.ProcessId)""})"
        [double]$stamp[0].value[1] | Should -BeGreaterOrEqual ([DateTimeOffset]::new($fresh.Timestamp.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000 - 0.002)
        [double]$stamp[0].value[1] | Should -BeLessOrEqual ([DateTimeOffset]::new($fresh.Timestamp.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000 + 0.002)
    }
}

BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) "memoryops-ret-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    New-Item -ItemType Directory $dir | Out-Null
    $script:orders = 100000
    $script:reports = 4
    $script:dictType = 'System.Collections.Generic.Dictionary<System.String, OrderService.OrderStat>'
    $script:orderPath = '[static] OrderService.Orders.byId → Dictionary<String, OrderStat> → Entry[] → OrderStat'
    $script:reportPath = '[static] OrderService.ReportCache.cache → List<CachedReport> → CachedReport[] → CachedReport → Int64[]'
    $script:target = Start-TestTarget
    $script:before = New-HeapSnapshot -ProcessId $target.ProcessId
    Send-TestTarget $target "leak $orders" | Out-Null
    Send-TestTarget $target "report $reports" | Out-Null
    $script:dump = New-MemoryDump -ProcessId $target.ProcessId -Path $dir
    $script:orderPaths = Get-HeapRetention -DumpPath $dump.Path -TypeName OrderService.OrderStat
    # An OrderStat's size as the snapshot reads it (checked against SOS in New-HeapSnapshot.Tests.ps1).
    $script:orderSize = (($dump | New-HeapSnapshot).Types | Where-Object TypeName -eq 'OrderService.OrderStat').TotalBytes / $orders

    function Get-SosRootChain([string] $DumpPath, [ulong] $Address) {
        # The chain SOS's gcroot prints under the first root: one "-> address type" line per object.
        $lines = Invoke-DotNetTool dotnet-dump @('analyze', $DumpPath, '-c', ('gcroot {0:x}' -f $Address), '-c', 'exit')
        $chain = foreach ($line in $lines) {
            if ($line -match '^\s*->\s+([0-9a-f]+)\s+(\S.*?)\s*(\(static variable:.*)?$') { [pscustomobject]@{ Address = '0x' + $Matches[1].TrimStart('0'); TypeName = $Matches[2].Trim() } }
            elseif ($chain -and $line -match 'Found \d+ unique roots') { break }
        }
        $chain
    }
}

AfterAll {
    $script:target | Stop-TestTarget
    Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Get-HeapRetention from a dump' {
    It 'names the static dictionary field as what holds every OrderStat' {
        $orderPaths | Should -BeOfType ([MemoryOps.HeapRetentionPath])
        $first = $orderPaths[0]
        $first.Path | Should -Be $orderPath
        $first.RootKind | Should -Be 'StaticField'
        $first.RootName | Should -Be 'OrderService.Orders.byId'
        $first.Depth | Should -Be 3
        $first.Types | Should -Be @($dictType, "$dictType+Entry[]", 'OrderService.OrderStat')
        $first.Count | Should -Be $orders
        $orderSize | Should -BeGreaterOrEqual 48
        $first.TotalBytes | Should -Be ($orders * $orderSize)
        $first.Fraction | Should -Be 1
        $first.Source | Should -Be 'Dump'
        $first.ProcessId | Should -Be $target.ProcessId
        ($orderPaths | Measure-Object Count -Sum).Sum | Should -Be $orders -Because 'every instance is accounted for, each once'
    }

    It 'names the report cache field as what holds the reports'' arrays' {
        $paths = Get-HeapRetention -DumpPath $dump.Path -TypeName 'System.Int64[]' -MaxPaths 20
        $held = $paths | Where-Object Path -eq $reportPath
        $held | Should -HaveCount 1
        $held.Count | Should -Be $reports
        $held.RootName | Should -Be 'OrderService.ReportCache.cache'
        $held.TotalBytes | Should -Be ($reports * (16384 * 8 + 24))
    }

    It 'gives for a sample object the same chain as SOS gcroot, from the static storage on' {
        foreach ($p in $orderPaths[0], (Get-HeapRetention -DumpPath $dump.Path -TypeName 'System.Int64[]' -MaxPaths 20 | Where-Object Path -eq $reportPath)) {
            $sos = @(Get-SosRootChain $dump.Path $p.SampleAddress)
            $sos.Count | Should -BeGreaterThan $p.SamplePath.Count
            # SOS starts at the handle that holds the statics array; ours at the field in that array.
            $tail = $sos[($sos.Count - $p.SamplePath.Count)..($sos.Count - 1)]
            $tail | ForEach-Object Address | Should -Be $p.SamplePath
            $tail | ForEach-Object TypeName | Should -Be $p.Types
            $sos[$sos.Count - $p.SamplePath.Count - 1].TypeName | Should -Be 'System.Object[]'
        }
    }

    It 'gives the dictionary a retained size that covers its entries, keys and values and nothing it does not reach' {
        $retained = Get-HeapRetention -DumpPath $dump.Path -TypeName $dictType -RetainedSize
        $retained | Should -BeOfType ([MemoryOps.HeapRetainedSize])
        $retained | Should -HaveCount 1
        $retained.Count | Should -Be 1
        $retained.ShallowBytes | Should -Be 80
        # Truth: SOS objsize lists everything the dictionary transitively reaches, by type.
        $lines = Invoke-DotNetTool dotnet-dump @('analyze', $dump.Path, '-c', ('objsize {0:x}' -f $retained.LargestAddress), '-c', 'exit')
        $stat = @{}
        foreach ($line in $lines) { if ($line -match '^\s*[0-9a-f]{6,16}\s+([\d,]+)\s+([\d,]+)\s+(.+?)\s*$') { $stat[$Matches[3]] = [long]($Matches[2] -replace ',', '') } }
        $total = [long](($lines | Select-String 'Total [\d,]+ objects, ([\d,]+) bytes').Matches[0].Groups[1].Value -replace ',', '')
        $stat['OrderService.OrderStat'] | Should -Be ($orders * $orderSize)
        $covered = $stat['OrderService.OrderStat'] + $stat['System.String'] + $stat["$dictType+Entry[]"] + 80
        $stat['System.String'] | Should -BeGreaterOrEqual ($orders * 40) -Because 'every key string is counted'
        $retained.RetainedBytes | Should -BeGreaterOrEqual $covered
        $retained.RetainedBytes | Should -BeLessOrEqual $total -Because 'objects shared with others (the default comparer) are not the dictionary''s alone'
        $retained.LargestRetainedBytes | Should -Be $retained.RetainedBytes
        $retained.HeapFraction | Should -BeGreaterThan 0.3
    }

    It 'ranks types by what they retain with -RetainedSize -Top' {
        $top = Get-HeapRetention -DumpPath $dump.Path -RetainedSize -Top 8
        $top | Should -HaveCount 8
        for ($i = 1; $i -lt $top.Count; $i++) { $top[$i].RetainedBytes | Should -BeLessOrEqual $top[$i - 1].RetainedBytes }
        $top.TypeName | Should -Contain $dictType
        $top.TypeName | Should -Contain 'System.Collections.Generic.List<OrderService.CachedReport>'
        ($top | Where-Object TypeName -eq $dictType).RetainedBytes | Should -BeGreaterThan (($top | Where-Object TypeName -eq $dictType).ShallowBytes * 1000)
    }

    It 'explains what grew, straight from Compare-HeapSnapshot, walking the dump once' {
        $after = $dump | New-HeapSnapshot -LiveOnly
        $out = Compare-HeapSnapshot $before $after -Top 3 -WarningAction SilentlyContinue |
            Get-HeapRetention -DumpPath $dump.Path -MaxPaths 1 -Verbose 4>&1
        $verbose = $out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        @($verbose | Where-Object Message -like 'Reading the object graph*') | Should -HaveCount 1
        $paths = $out | Where-Object { $_ -is [MemoryOps.HeapRetentionPath] }
        $paths.TypeName | Should -Contain 'OrderService.OrderStat'
        ($paths | Where-Object TypeName -eq 'OrderService.OrderStat').Path | Should -Be $orderPath
    }

    It 'takes dumps from New-MemoryDump and Get-Item through the pipeline' {
        ($dump | Get-HeapRetention -TypeName OrderService.OrderStat)[0].Path | Should -Be $orderPath
        (Get-Item $dump.Path | Get-HeapRetention -TypeName OrderService.OrderStat)[0].Count | Should -Be $orders
    }

    It 'writes ErrorRecords with an ErrorId, a category and the target' {
        $missing = Join-Path $dir 'missing.dmp'
        Get-HeapRetention -DumpPath $missing -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'PathNotFound,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -Be $missing
        Get-HeapRetention -DumpPath $dump.Path -TypeName 'No.Such.Type*' -ErrorVariable err2 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err2[0].FullyQualifiedErrorId | Should -BeLike 'TypeNotFound,*'
        $err2[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'stops promptly on Ctrl+C' {
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddCommand('Import-Module').AddArgument($env:MEMORYOPS_MODULE_PATH).AddStatement().
                AddCommand('Get-HeapRetention').AddParameter('DumpPath', $dump.Path).AddParameter('RetainedSize').AddParameter('Verbose')
            $async = $ps.BeginInvoke()
            # Stop as soon as the graph is being read (it takes about a second for this dump).
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while (-not ($ps.Streams.Verbose | Where-Object Message -like 'Reading the object graph*') -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 5
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            # PowerShell itself records the stop (PipelineStopped); the cmdlet adds no error of its own.
            $ps.Streams.Error | Where-Object FullyQualifiedErrorId -ne 'PipelineStopped' | Should -BeNullOrEmpty
        } finally { $ps.Dispose() }
    }
}

Describe 'Get-HeapRetention from a live process' {
    BeforeAll {
        $script:live = Get-DotNetProcess | Where-Object ProcessId -eq $target.ProcessId |
            Get-HeapRetention -TypeName OrderService.OrderStat, 'System.Int64[]' -MaxPaths 20
    }

    It 'names the same static fields over EventPipe and accounts for every OrderStat' {
        $live | Should -BeOfType ([MemoryOps.HeapRetentionPath])
        $order = $live | Where-Object TypeName -eq 'OrderService.OrderStat'
        $order[0].Path | Should -Be $orderPath
        $order[0].Count | Should -Be $orders
        $order[0].Source | Should -Be 'Process'
        ($order | Measure-Object Count -Sum).Sum | Should -Be $orders
        ($live | Where-Object Path -eq $reportPath).Count | Should -Be $reports
    }

    It 'agrees with the dump on the sample chain of an OrderStat' {
        $order = ($live | Where-Object TypeName -eq 'OrderService.OrderStat')[0]
        $order.Types | Should -Be $orderPaths[0].Types
        $order.SamplePath.Count | Should -Be 3
    }

    It 'gives the dictionary the same retained size as the dump does' {
        $fromLive = Get-HeapRetention -ProcessId $target.ProcessId -TypeName $dictType -RetainedSize
        $fromDump = Get-HeapRetention -DumpPath $dump.Path -TypeName $dictType -RetainedSize
        $fromLive.RetainedBytes | Should -Be $fromDump.RetainedBytes
        $fromLive.Source | Should -Be 'Process'
    }
}

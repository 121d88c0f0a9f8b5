BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) "memoryops-snap-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    New-Item -ItemType Directory $dir | Out-Null
    $script:orders = 300000
    $script:target = Start-TestTarget
    Send-TestTarget $target "leak $orders" | Out-Null
    Send-TestTarget $target 'report 5' | Out-Null
    $script:dump = New-MemoryDump -ProcessId $target.ProcessId -Path $dir
    $script:snapshot = $dump | New-HeapSnapshot
}

AfterAll {
    $script:target | Stop-TestTarget
    Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'New-HeapSnapshot from a dump' {
    It 'counts exactly the OrderStat objects the target made, at their instance size' {
        $snapshot | Should -BeOfType ([MemoryOps.HeapSnapshot])
        $snapshot.Source | Should -Be 'Dump'
        $snapshot.LiveOnly | Should -BeFalse
        $snapshot.ProcessId | Should -Be $target.ProcessId
        $snapshot.RuntimeVersion | Should -Match '^\d+\.\d+\.\d+'
        $row = $snapshot.Types | Where-Object TypeName -eq 'OrderService.OrderStat'
        $row.Count | Should -Be $orders
        # OrderStat: 16-byte object header and method table + string ref + 2 longs + double + decimal + 2 DateTimes = 80 bytes.
        $row.TotalBytes | Should -Be ($orders * 80)
        ($snapshot.Types | Where-Object TypeName -eq 'OrderService.CachedReport').Count | Should -Be 5
    }

    It 'agrees with SOS dumpheap -stat on the same dump for every type' {
        $sos = Get-SosHeapStat -DumpPath $dump.Path
        $sos.Count | Should -BeGreaterThan 50
        $ours = @{}
        foreach ($t in $snapshot.Types) { $ours[$t.TypeName] = $t }
        $sosByName = $sos | Group-Object TypeName
        $mismatches = foreach ($g in $sosByName) {
            $count = ($g.Group | Measure-Object Count -Sum).Sum
            $bytes = ($g.Group | Measure-Object TotalBytes -Sum).Sum
            $mine = $ours[$g.Name]
            if ($null -eq $mine -or $mine.Count -ne $count -or $mine.TotalBytes -ne $bytes) { "$($g.Name): SOS $count/$bytes, ours $($mine.Count)/$($mine.TotalBytes)" }
        }
        $mismatches | Should -BeNullOrEmpty
        $snapshot.Types.Count | Should -Be $sosByName.Count
        ($snapshot.Types | Where-Object IsFree).TypeName | Should -Be 'Free'
        $snapshot.FreeBytes | Should -Be ($sos | Where-Object TypeName -eq 'Free').TotalBytes
    }

    It 'counts only reachable objects with -LiveOnly, as SOS dumpheap -stat -live does' {
        $live = New-HeapSnapshot -DumpPath $dump.Path -LiveOnly
        $live.LiveOnly | Should -BeTrue
        ($live.Types | Where-Object IsFree) | Should -BeNullOrEmpty
        ($live.Types | Where-Object TypeName -eq 'OrderService.OrderStat').Count | Should -Be $orders
        $sos = Get-SosHeapStat -DumpPath $dump.Path -Live
        $live.ObjectCount | Should -Be ($sos | Measure-Object Count -Sum).Sum
        $entry = 'System.Collections.Generic.Dictionary<System.String, OrderService.OrderStat>+Entry[]'
        ($live.Types | Where-Object TypeName -eq $entry).Count | Should -Be 1 -Because 'the arrays left by earlier resizes are dead'
        $live.ObjectCount | Should -BeLessOrEqual $snapshot.ObjectCount -Because 'the whole heap also holds whatever garbage was not collected yet' 
    }

    It 'refuses a Mini dump, which has no heap, with a clear error' {
        $mini = New-MemoryDump -ProcessId $target.ProcessId -Path (Join-Path $dir 'mini.dmp') -Type Mini
        $mini | New-HeapSnapshot -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidData,*'
        $err[0].Exception.Message | Should -BeLike '*Mini*'
    }

    It 'refuses a truncated dump and a file that is not a dump, naming the file, and goes on with the next' {
        $truncated = Join-Path $dir 'truncated.dmp'
        $stream = [IO.File]::OpenRead($dump.Path)
        try {
            $buffer = [byte[]]::new(4MB); $n = $stream.Read($buffer, 0, $buffer.Length)
            [IO.File]::WriteAllBytes($truncated, $buffer[0..($n - 1)])
        } finally { $stream.Dispose() }
        $text = Join-Path $dir 'notes.dmp'
        Set-Content $text 'not a dump'
        $result = New-HeapSnapshot -DumpPath $truncated, $text, $dump.Path -ErrorVariable err -ErrorAction SilentlyContinue
        $result | Should -HaveCount 1
        $err | Should -HaveCount 2
        $err | ForEach-Object { $_.FullyQualifiedErrorId | Should -BeLike 'InvalidData,*' }
        $err[0].TargetObject | Should -Be $truncated
        $err[1].Exception.Message | Should -BeLike "*$text*"
    }

    It 'takes -RuntimePath, and refuses one without a DAC' {
        $runtimeDir = Split-Path (Get-Content "/proc/$($target.ProcessId)/maps" | Where-Object { $_ -match '/(\S+)/libcoreclr\.so' } | Select-Object -First 1).Split(' ')[-1]
        (New-HeapSnapshot -DumpPath $dump.Path -RuntimePath $runtimeDir).ObjectCount | Should -Be $snapshot.ObjectCount
        New-HeapSnapshot -DumpPath $dump.Path -RuntimePath $dir -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidInput,*'
    }

    It 'runs the whole pipeline: Get-DotNetProcess | New-MemoryDump | New-HeapSnapshot | Export-HeapSnapshot' {
        $file = Join-Path $dir 's.json.gz'
        Get-DotNetProcess -Id $target.ProcessId | New-MemoryDump -Path $dir | New-HeapSnapshot | Export-HeapSnapshot -Path $file
        $back = Import-HeapSnapshot $file
        ($back.Types | Where-Object TypeName -eq 'OrderService.OrderStat').Count | Should -Be $orders
    }
}

Describe 'Export-HeapSnapshot and Import-HeapSnapshot' {
    It 'round-trips a snapshot exactly, plain and gzip' {
        foreach ($name in 'r.json', 'r.json.gz') {
            $file = Join-Path $dir $name
            $snapshot | Export-HeapSnapshot -Path $file
            $back = Import-HeapSnapshot -Path $file
            $back | Should -BeOfType ([MemoryOps.HeapSnapshot])
            foreach ($p in 'Source', 'ProcessId', 'ProcessName', 'RuntimeVersion', 'TotalBytes', 'ObjectCount', 'LiveOnly', 'FreeBytes', 'Gen0Bytes', 'Gen2Bytes', 'LohBytes', 'DumpPath') {
                $back.$p | Should -Be $snapshot.$p -Because $p
            }
            $back.Timestamp.ToUniversalTime() | Should -Be $snapshot.Timestamp.ToUniversalTime()
            ($back.Types | ForEach-Object { "$($_.TypeName)|$($_.Count)|$($_.TotalBytes)|$($_.IsFree)" }) -join "`n" |
                Should -Be (($snapshot.Types | ForEach-Object { "$($_.TypeName)|$($_.Count)|$($_.TotalBytes)|$($_.IsFree)" }) -join "`n")
            (Get-Item $file).UnixMode | Should -Be '-rw-------'
        }
    }

    It 'does not overwrite without -Force' {
        $file = Join-Path $dir 'keep.json'
        Set-Content $file 'precious'
        $snapshot | Export-HeapSnapshot -Path $file -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'FileExists,*'
        Get-Content $file | Should -Be 'precious'
        $snapshot | Export-HeapSnapshot -Path $file -Force
        (Import-HeapSnapshot $file).ObjectCount | Should -Be $snapshot.ObjectCount
    }

    It 'rejects truncated, corrupt, empty and future-version files with errors that name the file' {
        $good = Join-Path $dir 'good.json.gz'
        $snapshot | Export-HeapSnapshot -Path $good -Force
        $bytes = [IO.File]::ReadAllBytes($good)
        $truncated = Join-Path $dir 'truncated.json.gz'; [IO.File]::WriteAllBytes($truncated, $bytes[0..($bytes.Length / 2)])
        $empty = Join-Path $dir 'empty.json'; Set-Content $empty -Value '' -NoNewline
        $corrupt = Join-Path $dir 'corrupt.json'; Set-Content $corrupt '{"format": "MemoryOps.HeapSnapshot", "version": 1, "types": [ {'
        $future = Join-Path $dir 'future.json'; Set-Content $future '{"format": "MemoryOps.HeapSnapshot", "version": 7}'
        $result = Import-HeapSnapshot $truncated, $empty, $corrupt, $future, $good -ErrorVariable err -ErrorAction SilentlyContinue
        $result | Should -HaveCount 1
        $err | Should -HaveCount 4
        $err[0].Exception.Message | Should -BeLike "*$truncated*truncated*"
        $err[1].Exception.Message | Should -BeLike "*$empty*empty*"
        $err[2].Exception.Message | Should -BeLike "*$corrupt*"
        $err[3].FullyQualifiedErrorId | Should -BeLike 'UnsupportedVersion,*'
        $err[3].Exception.Message | Should -BeLike '*version 7*'
    }
}

Describe 'New-HeapSnapshot from a live process' {
    BeforeAll {
        # A full GC promotes by one generation: orders made since the last GC sit in gen 0, and the snapshot's own
        # full GC only moves them to gen 1. Two full GCs first put the leak in gen 2 for certain, however many GCs
        # the machine happened to run while it was made.
        Send-TestTarget $target 'gc' | Out-Null
        Send-TestTarget $target 'gc' | Out-Null
        $script:live = New-HeapSnapshot -ProcessId $target.ProcessId
    }

    It 'counts exactly the OrderStat objects the target made, from the live heap' {
        $live | Should -BeOfType ([MemoryOps.HeapSnapshot])
        $live.Source | Should -Be 'Process'
        $live.LiveOnly | Should -BeTrue
        $live.ProcessName | Should -Be 'TestTarget'
        ($live.Types | Where-Object TypeName -eq 'OrderService.OrderStat').Count | Should -Be $orders
        ($live.Types | Where-Object TypeName -eq 'OrderService.OrderStat').TotalBytes | Should -Be ($orders * 80)
        ($live.Types | Where-Object TypeName -eq 'OrderService.CachedReport').Count | Should -Be 5
        $live.Gen2Bytes | Should -BeGreaterThan ($orders * 80) -Because 'the leak is in gen 2 after a full GC'
        ($live.Types | Where-Object IsFree) | Should -BeNullOrEmpty
        Wait-TestTargetSessionsClosed $target | Should -Be 'OK sessions enabled='
    }

    It 'has the generation sizes of a dump of the same moment (the GC''s own accounting, free space included)' {
        # The same moment: no collection may run between the live snapshot's induced GC and the dump. A gen-0 GC
        # the target's runtime starts on its own would move bytes between generations, so try again (bounded).
        for ($try = 1; $try -le 5; $try++) {
            $before = Send-TestTarget $target 'gccount'
            $again = New-HeapSnapshot -ProcessId $target.ProcessId
            $dumpNow = New-MemoryDump -ProcessId $target.ProcessId -Path $dir | New-HeapSnapshot -LiveOnly
            $after = Send-TestTarget $target 'gccount'
            $expected = ($before -replace '^OK gccount ', '') -split ' ' | ForEach-Object { $k, $v = $_ -split '='; "$k=$([int]$v + 1)" }
            if (($after -replace '^OK gccount ', '') -eq ($expected -join ' ')) { break }
        }
        $try | Should -BeLessOrEqual 5 -Because 'five tries must see one without a collection of its own in between'
        $again.Gen1Bytes | Should -Be $dumpNow.Gen1Bytes
        $again.Gen2Bytes | Should -Be $dumpNow.Gen2Bytes
        $again.LohBytes | Should -Be $dumpNow.LohBytes
        $again.PohBytes | Should -Be $dumpNow.PohBytes
        # Gen 0 holds what the target allocated after the GC (answering the dump request, for one): a little, not the leak.
        $dumpNow.Gen0Bytes | Should -BeLessThan 4MB
        $again.Gen2Bytes | Should -BeGreaterThan ($orders * 80)
    }

    It 'names types exactly as a dump snapshot does, nested generics included' {
        $dumpLive = New-MemoryDump -ProcessId $target.ProcessId -Path $dir | New-HeapSnapshot -LiveOnly
        $entry = 'System.Collections.Generic.Dictionary<System.String, OrderService.OrderStat>+Entry[]'
        ($live.Types | Where-Object TypeName -eq $entry).TotalBytes | Should -Be ($dumpLive.Types | Where-Object TypeName -eq $entry).TotalBytes
        foreach ($name in 'OrderService.OrderStat', 'OrderService.CachedReport', 'System.Int64[]', $entry,
            'System.Collections.Generic.List<OrderService.CachedReport>', 'System.Collections.Generic.Dictionary<System.String, OrderService.OrderStat>') {
            ($live.Types | Where-Object TypeName -eq $name).Count | Should -Be ($dumpLive.Types | Where-Object TypeName -eq $name).Count -Because $name
        }
        # Small runtime-internal objects come and go between the two moments; every type with 100 or more
        # instances on either side must be there on the other under the very same name.
        $liveNames = [Collections.Generic.HashSet[string]]::new([string[]]$live.Types.TypeName)
        $dumpNames = [Collections.Generic.HashSet[string]]::new([string[]]$dumpLive.Types.TypeName)
        ($dumpLive.Types | Where-Object { $_.Count -ge 100 -and -not $liveNames.Contains($_.TypeName) }).TypeName | Should -BeNullOrEmpty
        ($live.Types | Where-Object { $_.Count -ge 100 -and -not $dumpNames.Contains($_.TypeName) }).TypeName | Should -BeNullOrEmpty
    }

    It 'agrees with dotnet-gcdump taken right after' {
        $gcdump = Get-GcDumpHeapStat -ProcessId $target.ProcessId
        $again = New-HeapSnapshot -ProcessId $target.ProcessId
        foreach ($name in 'OrderService.OrderStat', 'OrderService.CachedReport') {
            ($again.Types | Where-Object TypeName -eq $name).Count | Should -Be ($gcdump | Where-Object TypeName -eq $name).Count -Because $name
        }
        $big = $gcdump | Where-Object Count -ge 1000
        $big.TypeName | Should -Contain 'System.String'
        foreach ($row in $big) {
            $mine = $again.Types | Where-Object TypeName -eq $row.TypeName
            if ($null -eq $mine) { continue } # dotnet-gcdump drops the declaring type of nested types
            [math]::Abs($mine.Count - $row.Count) / $row.Count | Should -BeLessOrEqual 0.001 -Because $row.TypeName
        }
    }

    It 'reports an unknown PID and a non-.NET process' {
        $sleep = Start-NonDotNetProcess
        try {
            New-HeapSnapshot -ProcessId 999999, $sleep.Id -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err | Should -HaveCount 2
            $err[0].FullyQualifiedErrorId | Should -BeLike 'ProcessNotFound,*'
            $err[1].FullyQualifiedErrorId | Should -BeLike 'NotDotNetProcess,*'
        } finally { $sleep.Kill(); $sleep.Dispose() }
    }
}

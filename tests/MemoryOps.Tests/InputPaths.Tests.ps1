# Path parameters the way PowerShell's own cmdlets take them: wildcards on -Path (and -DumpPath), -LiteralPath as
# written, Get-ChildItem output by PSPath, and a missing file as ObjectNotFound with the other files still read.
BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force
    $script:target = Start-TestTarget
    Send-TestTarget $target 'leak 3000' | Out-Null
    $script:dir = Join-Path $TestDrive 'files'
    New-Item -ItemType Directory $dir | Out-Null
    $snapshot = New-HeapSnapshot -ProcessId $target.ProcessId
    foreach ($name in 'before-1.json.gz', 'before-2.json.gz', 'after.json.gz', '[x].json.gz') {
        $snapshot | Export-HeapSnapshot -LiteralPath (Join-Path $dir $name)
    }
    $script:dump = Join-Path $dir 'orders[1].dmp'
    New-MemoryDump -ProcessId $target.ProcessId -Path $dump -Type Heap | Out-Null
    '@{ Rules = @( @{ Counter = "gc-heap-size"; Maximum = 1GB } ) }' | Set-Content (Join-Path $dir 'p1.psd1')
    '@{ Rules = @( @{ Counter = "gc-heap-size"; Maximum = 2GB } ) }' | Set-Content (Join-Path $dir 'p2.psd1')
}

AfterAll {
    $script:target | Stop-TestTarget
}

Describe 'Import-HeapSnapshot paths' {
    It 'expands wildcards in -Path' {
        (Import-HeapSnapshot (Join-Path $dir 'bef*.gz')) | Should -HaveCount 2
    }

    It 'takes -LiteralPath as written, brackets included, and Get-ChildItem output by PSPath' {
        (Import-HeapSnapshot -LiteralPath (Join-Path $dir '[x].json.gz')).ProcessId | Should -Be $target.ProcessId
        (Get-ChildItem -LiteralPath $dir -Filter '*.json.gz' | Import-HeapSnapshot) | Should -HaveCount 4
    }

    It 'reports a missing file as ObjectNotFound and reads the others' {
        $read = Import-HeapSnapshot (Join-Path $dir 'after.json.gz'), (Join-Path $dir 'nothere.json.gz'), (Join-Path $dir 'before-1.json.gz') -ErrorVariable failures -ErrorAction SilentlyContinue
        $read | Should -HaveCount 2
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'PathNotFound,*'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failures[0].TargetObject | Should -BeLike '*nothere.json.gz'
    }

    It 'gives nothing, and no error, for a pattern that matches nothing (as Get-Item does)' {
        Import-HeapSnapshot (Join-Path $dir 'zzz*.gz') -ErrorVariable failures | Should -BeNullOrEmpty
        $failures | Should -BeNullOrEmpty
    }
}

Describe 'Dump paths of New-HeapSnapshot and Get-HeapRetention' {
    It 'takes a dump whose name has brackets by -LiteralPath and by Get-ChildItem, and by a wildcard' {
        $literal = New-HeapSnapshot -LiteralPath $dump
        ($literal.Types | Where-Object TypeName -eq 'OrderService.OrderStat').Count | Should -Be 3000
        (Get-ChildItem -LiteralPath $dir -Filter '*.dmp' | New-HeapSnapshot).DumpPath | Should -Be $dump
        (New-HeapSnapshot -DumpPath (Join-Path $dir 'orders*.dmp')).DumpPath | Should -Be $dump
        (Get-HeapRetention -LiteralPath $dump -TypeName OrderService.OrderStat -MaxPaths 1).Count | Should -Be 3000
    }

    It 'reports a missing dump as ObjectNotFound' {
        { New-HeapSnapshot -DumpPath (Join-Path $dir 'nothere.dmp') -ErrorAction Stop } | Should -Throw -ErrorId 'PathNotFound*'
        { Get-HeapRetention -LiteralPath (Join-Path $dir 'nothere.dmp') -ErrorAction Stop } | Should -Throw -ErrorId 'PathNotFound*'
    }
}

Describe 'Import-MemoryPolicy paths' {
    It 'expands wildcards and takes -LiteralPath' {
        (Import-MemoryPolicy (Join-Path $dir 'p*.psd1')).Maximum | Sort-Object | Should -Be @(1GB, 2GB)
        (Import-MemoryPolicy -LiteralPath (Join-Path $dir 'p2.psd1')).Maximum | Should -Be 2GB
        { Import-MemoryPolicy (Join-Path $dir 'nothere.psd1') -ErrorAction Stop } | Should -Throw -ErrorId 'PathNotFound*'
    }
}

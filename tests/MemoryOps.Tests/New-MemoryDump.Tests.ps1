BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force
    $script:target = Start-TestTarget
    Send-TestTarget $target 'leak 100000' | Out-Null
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) "memoryops-dump-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    New-Item -ItemType Directory $dir | Out-Null
}

AfterAll {
    $script:target | Stop-TestTarget
    Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'New-MemoryDump' {
    It 'writes a Heap dump into a folder under a generated name, owner-only, and describes it' {
        $info = New-MemoryDump -ProcessId $target.ProcessId -Path $dir
        $info | Should -BeOfType ([MemoryOps.MemoryDumpInfo])
        $info.Type | Should -Be 'Heap'
        $info.ProcessId | Should -Be $target.ProcessId
        [IO.Path]::GetFileName($info.Path) | Should -Match "^TestTarget_$($target.ProcessId)_\d{8}-\d{6}\.dmp$"
        $info.SizeBytes | Should -Be (Get-Item $info.Path).Length
        $info.SizeBytes | Should -BeGreaterThan 10MB
        (Get-Item $info.Path).UnixMode | Should -Be '-rw-------'
        Get-ChildItem $dir -Force -Filter '.*.tmp' | Should -BeNullOrEmpty
        Remove-Item $info.Path
    }

    It 'never overwrites an existing file without -Force, and replaces it with -Force' {
        $path = Join-Path $dir 'existing.dmp'
        Set-Content $path 'precious'
        New-MemoryDump -ProcessId $target.ProcessId -Path $path -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'FileExists,*'
        $err[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        Get-Content $path | Should -Be 'precious'
        $info = New-MemoryDump -ProcessId $target.ProcessId -Path $path -Type Mini -Force
        $info.SizeBytes | Should -BeGreaterThan 1KB
        Get-Content $path -TotalCount 1 | Should -Not -Be 'precious'
        Remove-Item $path
    }

    It 'writes nothing with -WhatIf' {
        $path = Join-Path $dir 'whatif.dmp'
        New-MemoryDump -ProcessId $target.ProcessId -Path $path -WhatIf | Should -BeNullOrEmpty
        Test-Path $path | Should -BeFalse
    }

    It 'refuses when the folder has less free space than the dump needs, and leaves nothing behind' {
        $small = Join-Path $dir 'small'
        New-Item -ItemType Directory $small | Out-Null
        mount -t tmpfs -o size=8m tmpfs $small
        if ($LASTEXITCODE -ne 0) { throw 'this test needs root to mount a small tmpfs' }
        try {
            New-MemoryDump -ProcessId $target.ProcessId -Path $small -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'InsufficientSpace,*'
            $err[0].Exception.Message | Should -BeLike '*MB free*'
            # With -Force the check is skipped; the disk then fills while writing: a specific error, and no partial file.
            New-MemoryDump -ProcessId $target.ProcessId -Path $small -Force -ErrorVariable err2 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err2 | Should -Not -BeNullOrEmpty
            Get-ChildItem $small -Force | Should -BeNullOrEmpty
        } finally { umount $small }
    }

    It 'reports an unknown PID and goes on with the next one' {
        $info = New-MemoryDump -ProcessId 999999, $target.ProcessId -Path $dir -Type Triage -ErrorVariable err -ErrorAction SilentlyContinue
        $info | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ProcessNotFound,*'
        Remove-Item $info.Path
    }
}

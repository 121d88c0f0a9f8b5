BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force
    $script:target = Start-TestTarget
}

AfterAll {
    $script:target | Stop-TestTarget
}

Describe 'Get-DotNetProcess' {
    It 'lists the running TestTarget with its runtime version' {
        $found = Get-DotNetProcess | Where-Object ProcessId -eq $target.ProcessId
        $found | Should -Not -BeNullOrEmpty
        $found.Name | Should -Be 'TestTarget'
        $found.CommandLine | Should -BeLike '*TestTarget*'
        $found.Architecture | Should -Be 'x64'
        # Independent truth: the runtime folder the target actually mapped (…/Microsoft.NETCore.App/<version>/libcoreclr.so).
        $mapped = Get-Content "/proc/$($target.ProcessId)/maps" | Where-Object { $_ -match 'Microsoft.NETCore.App/([^/]+)/libcoreclr.so' } | Select-Object -First 1
        $null = $mapped -match 'Microsoft.NETCore.App/([^/]+)/libcoreclr.so'
        $found.RuntimeVersion | Should -Be $Matches[1]
        $found | Should -BeOfType ([MemoryOps.DotNetProcessInfo])
    }

    It 'matches -Name with wildcards' {
        (Get-DotNetProcess -Name 'TestTar*').ProcessId | Should -Contain $target.ProcessId
        (Get-DotNetProcess -Name 'testtarget').ProcessId | Should -Contain $target.ProcessId
        Get-DotNetProcess -Name 'NoSuchService*' | Should -BeNullOrEmpty
    }

    It 'takes Get-Process objects from the pipeline' {
        $result = Get-Process -Id $target.ProcessId | Get-DotNetProcess
        $result.ProcessId | Should -Be $target.ProcessId
    }

    It 'reports an unknown PID as ProcessNotFound and goes on with the others' {
        $result = Get-DotNetProcess -Id 999999, $target.ProcessId -ErrorVariable err -ErrorAction SilentlyContinue
        $result.ProcessId | Should -Be $target.ProcessId
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ProcessNotFound,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -Be 999999
    }

    It 'reports a process that is not .NET as NotDotNetProcess' {
        $sleep = Start-NonDotNetProcess
        try {
            Get-DotNetProcess -Id $sleep.Id -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'NotDotNetProcess,*'
            $err[0].TargetObject | Should -Be $sleep.Id
        } finally { $sleep.Kill(); $sleep.Dispose() }
    }

    It 'does not list a dead process whose diagnostic socket was left behind' {
        $victim = Start-TestTarget
        $victimPid = $victim.ProcessId
        $victim.Process.Kill()   # SIGKILL: the runtime cannot remove its socket
        $victim.Process.WaitForExit()
        $socket = Get-ChildItem ([IO.Path]::GetTempPath()) -Filter "dotnet-diagnostic-$victimPid-*-socket"
        try {
            $socket | Should -Not -BeNullOrEmpty -Because 'the stale socket is the situation under test'
            (Get-DotNetProcess).ProcessId | Should -Not -Contain $victimPid
            (Get-DotNetProcess).ProcessId | Should -Contain $target.ProcessId
        } finally { $socket | Remove-Item -Force -ErrorAction SilentlyContinue }
    }

    It 'does not list a non-.NET process that holds the PID of a stale socket' {
        $sleep = Start-NonDotNetProcess
        # A socket file named for this PID, as a dead .NET process with the same PID would have left it.
        $fake = Join-Path ([IO.Path]::GetTempPath()) "dotnet-diagnostic-$($sleep.Id)-12345-socket"
        # .NET unlinks a bound socket's file on Dispose, so bind elsewhere and move the socket file into place:
        # the file stays and nobody answers on it (connection refused), exactly like a SIGKILLed process's socket.
        $bound = Join-Path ([IO.Path]::GetTempPath()) "memoryops-bind-$([guid]::NewGuid().ToString('N'))"
        $listener = [System.Net.Sockets.Socket]::new('Unix', 'Stream', 'Unspecified')
        $listener.Bind([System.Net.Sockets.UnixDomainSocketEndPoint]::new($bound))
        Move-Item $bound $fake
        $listener.Dispose()
        try {
            Test-Path $fake | Should -BeTrue -Because 'the stale socket is the situation under test'
            (Get-DotNetProcess).ProcessId | Should -Not -Contain $sleep.Id
            Get-DotNetProcess -Id $sleep.Id -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'NotDotNetProcess,*'
        } finally {
            Remove-Item $fake -Force -ErrorAction SilentlyContinue
            $sleep.Kill(); $sleep.Dispose()
        }
    }
}

# Objects that come home from remoting, jobs and files, and the fleet runbook over real SSH remoting: one sshd per
# loopback address (127.0.0.2, .3, ...), each with its own TestTarget and TMPDIR, pwsh as the SSH subsystem with the
# built module on its path (TestFleet.psm1; installs openssh-server from Debian's packages when missing).
BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'TestFleet.psm1') -Force
    $script:runbook = (Resolve-Path (Join-Path $PSScriptRoot '../../docs/examples/Invoke-FleetMemoryCheck.ps1')).Path
    $script:modulePath = $env:MEMORYOPS_MODULE_PATH
    $script:target = Start-TestTarget
    Send-TestTarget $target 'leak 5000' | Out-Null

    # Every JSON property of a snapshot file: two snapshots are the same when their files say the same.
    function Get-SnapshotText($Snapshot) {
        $file = Join-Path $TestDrive "$([guid]::NewGuid().ToString('N')).json"
        $Snapshot | Export-HeapSnapshot -Path $file
        Get-Content $file -Raw
    }
}

AfterAll {
    $script:target | Stop-TestTarget
}

Describe 'Objects that come home from jobs and files' {
    It 'lists every MemoryOps class in the types file, so each one is rebuilt on deserialization' {
        # Dictionaries (CounterTags) travel as hashtables and are rebuilt by the property that holds them.
        $types = [xml](Get-Content (Join-Path (Split-Path $modulePath) 'MemoryOps.Types.ps1xml') -Raw)
        $registered = $types.Types.Type | Where-Object { $_.TypeConverter } | ForEach-Object Name
        $public = [MemoryOps.HeapSnapshot].Assembly.GetExportedTypes() | Where-Object { $_.IsClass -and -not ($_.IsAbstract -and $_.IsSealed) -and -not [Exception].IsAssignableFrom($_) -and -not [Collections.IDictionary].IsAssignableFrom($_) } | ForEach-Object FullName
        $public | Where-Object { $_ -notin $registered } | Should -BeNullOrEmpty
    }

    It 'rebuilds the property bag a module-less session made (New-Object with PSTypeName) in the cmdlets too' {
        $local = New-HeapSnapshot -ProcessId $target.ProcessId
        # Deserialized before the converter could run: e.g. received before the module was imported. The cmdlets
        # rebuild it themselves (their transformation attribute).
        $bag = [pscustomobject]@{ ProcessName = 'bag'; TotalBytes = $local.TotalBytes; Types = [Collections.ArrayList]@($local.Types | ForEach-Object {
            $row = [pscustomobject]@{ TypeName = $_.TypeName; Count = $_.Count; TotalBytes = $_.TotalBytes; IsFree = $_.IsFree }
            $row.PSTypeNames.Insert(0, 'Deserialized.MemoryOps.HeapTypeStat'); $row }) }
        $bag.PSTypeNames.Insert(0, 'Deserialized.MemoryOps.HeapSnapshot')
        Compare-HeapSnapshot -ReferenceSnapshot $local -DifferenceSnapshot $bag | Should -BeNullOrEmpty
        (Compare-HeapSnapshot $local $bag -IncludeUnchanged).Count | Should -Be @($local.Types | Where-Object { -not $_.IsFree }).Count
    }

    It 'takes a snapshot made in a background job, losslessly, in every cmdlet that reads snapshots' {
        $fromJob = Start-Job -ArgumentList $modulePath, $target.ProcessId {
            param($module, $processId)
            Import-Module $module
            New-HeapSnapshot -ProcessId $processId
        } | Receive-Job -Wait -AutoRemoveJob
        # PowerShell's deserializer rebuilt it (MemoryOps.Types.ps1xml): a real snapshot, not a property bag.
        $fromJob | Should -BeOfType ([MemoryOps.HeapSnapshot])
        $fromJob.Types[0] | Should -BeOfType ([MemoryOps.HeapTypeStat])

        # The target's own known allocations: 5,000 orders of 80 bytes each.
        $local = New-HeapSnapshot -ProcessId $target.ProcessId
        $deltas = Compare-HeapSnapshot -ReferenceSnapshot $local -DifferenceSnapshot $fromJob -TypeName 'OrderService.OrderStat' -IncludeUnchanged
        $deltas.DifferenceCount | Should -Be 5000
        $deltas.DifferenceBytes | Should -Be (5000 * 80)
        $deltas.Host | Should -Be ([Environment]::MachineName)   # a job's "localhost" keeps the object's own host

        $result = $fromJob | Test-MemoryThreshold -Rule (New-MemoryRule -TypeName 'OrderService.OrderStat' -MaxCount 4999)
        $result.Observed | Should -Be 5000
        $result.Passed | Should -BeFalse

        $store = Join-Path $TestDrive 'job-store'
        $saved = $fromJob | Save-MemoryBaseline -Name fromjob -Store $store -PassThru
        $saved.Snapshot.Types.Count | Should -Be $fromJob.Types.Count
    }

    It 'rebuilds a snapshot that went through Export-Clixml and Import-Clixml to the same file, row for row' {
        $local = New-HeapSnapshot -ProcessId $target.ProcessId
        $xml = Join-Path $TestDrive 'snapshot.xml'
        $local | Export-Clixml $xml
        $imported = Import-Clixml $xml
        $imported | Should -BeOfType ([MemoryOps.HeapSnapshot])
        Get-SnapshotText $imported | Should -BeExactly (Get-SnapshotText $local)
        Compare-HeapSnapshot $local $imported | Should -BeNullOrEmpty   # nothing changed
    }

    It 'takes counter samples and GC records from a job in Test-MemoryThreshold and Save-MemoryBaseline' {
        $samples = Start-Job -ArgumentList $modulePath, $target.ProcessId {
            param($module, $processId)
            Import-Module $module
            Get-GcCounter -ProcessId $processId -Counter gc-heap-size -MaxSamples 2
        } | Receive-Job -Wait -AutoRemoveJob
        $samples | Should -HaveCount 2
        $samples[0] | Should -BeOfType ([MemoryOps.CounterSample])
        $results = $samples | Test-MemoryThreshold -Rule (New-MemoryRule -Counter gc-heap-size -Maximum 1TB)
        $results.Observed | Should -Be $samples[-1].Value
        $entry = $samples | Save-MemoryBaseline -Name counters -Store (Join-Path $TestDrive 'counter-store') -PassThru
        $entry.Metrics['gc-heap-size'] | Should -Be ($samples | Measure-Object Value -Average).Average

        # A tagged Meter series keeps its tags, as the same dictionary type.
        $tagged = Start-Job -ArgumentList $modulePath, $target.ProcessId {
            param($module, $processId)
            Import-Module $module
            Get-GcCounter -ProcessId $processId -Counter dotnet.gc.last_collection.heap.size -MaxSamples 1
        } | Receive-Job -Wait -AutoRemoveJob
        $tagged[0].Tags | Should -BeOfType ([MemoryOps.CounterTags])
        ($tagged.Tags.Keys | Sort-Object -Unique) | Should -Be 'gc.heap.generation'
        ($tagged | ForEach-Object { $_.Tags['gc.heap.generation'] } | Sort-Object) | Should -Contain 'gen2'
    }

    It 'binds a Snapshot baseline entry, also after Import-Clixml, where a snapshot is expected' {
        $store = Join-Path $TestDrive 'entry-store'
        $local = New-HeapSnapshot -ProcessId $target.ProcessId
        $local | Save-MemoryBaseline -Name orders -Store $store
        $entry = Get-MemoryBaseline -Name orders -Store $store
        $xml = Join-Path $TestDrive 'entry.xml'
        $entry | Export-Clixml $xml
        foreach ($reference in $entry, (Import-Clixml $xml)) {
            $delta = Compare-HeapSnapshot -ReferenceSnapshot $reference -DifferenceSnapshot $local -TypeName 'OrderService.OrderStat' -IncludeUnchanged
            $delta.ReferenceCount | Should -Be 5000
            $delta.Status | Should -Be 'Unchanged'
        }
    }

    It 'refuses a counters baseline entry where a snapshot is expected, and says why' {
        $store = Join-Path $TestDrive 'counters-entry-store'
        Get-GcCounter -ProcessId $target.ProcessId -Counter gc-heap-size -MaxSamples 1 | Save-MemoryBaseline -Name c -Store $store
        $local = New-HeapSnapshot -ProcessId $target.ProcessId
        { Compare-HeapSnapshot -ReferenceSnapshot (Get-MemoryBaseline -Name c -Store $store) -DifferenceSnapshot $local -ErrorAction Stop } |
            Should -Throw '*holds counters, not a heap snapshot*'
    }

    It 'refuses a snapshot that lost its rows on the way instead of comparing nothing' {
        $local = New-HeapSnapshot -ProcessId $target.ProcessId
        # What a serializer that does not know MemoryOps' depths makes of a snapshot: the rows as text.
        $flat = [pscustomobject]@{ PSTypeName = 'MemoryOps.HeapSnapshot'; ProcessName = 'x'; Types = @($local.Types | ForEach-Object ToString) }
        $relayed = [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize($flat))
        $relayed.PSTypeNames[0] | Should -Be 'Deserialized.MemoryOps.HeapSnapshot'
        $relayed.Types[0] | Should -BeOfType ([string])
        { Compare-HeapSnapshot -ReferenceSnapshot $local -DifferenceSnapshot $relayed -ErrorAction Stop } |
            Should -Throw '*Types*came home as text*serialized too shallow*'
    }
}

Describe 'The fleet runbook over SSH remoting' {
    BeforeAll {
        $script:fleet = Start-TestFleet -Count 3 -Orders 20000
        $script:store = Join-Path $TestDrive 'fleet-store'
        $script:check = @{
            HostName    = @($fleet.Hosts.Address)
            Port        = $fleet.Port
            UserName    = 'root'
            KeyFilePath = $fleet.KeyFile
            SshOption   = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }
            ProcessName = 'TestTarget'
            Baseline    = 'orders'
            Store       = $store
            Rule        = @(
                New-MemoryRule -Name growth -TypeName 'OrderService.OrderStat' -MaxBytesGrowth 1MB
                New-MemoryRule -Name level -Baseline orders -Store $store -Counter TotalBytes -MaxDeviationPercent 50 -Direction Above
            )
        }
    }
    AfterAll {
        if ($script:fleet) { Stop-TestFleet $script:fleet }
    }

    It 'starts each host''s own history on the first check and exits 0' {
        $verdicts = & $runbook @check
        $LASTEXITCODE | Should -Be 0
        $verdicts | Should -HaveCount 3
        ($verdicts.Host | Sort-Object) | Should -Be @('127.0.0.2', '127.0.0.3', '127.0.0.4')
        $verdicts.Rule | Sort-Object -Unique | Should -Be 'Baseline'
        $entries = Get-MemoryBaseline -Name orders -Store $store -History
        ($entries.Host | Sort-Object) | Should -Be @('127.0.0.2', '127.0.0.3', '127.0.0.4')
        # Each host's entry is its own heap: 20,000 orders of 80 bytes.
        foreach ($e in $entries) {
            ($e.Snapshot.Types | Where-Object TypeName -eq 'OrderService.OrderStat').TotalBytes | Should -Be 1600000
        }
    }

    It 'holds each host to its own baseline; a leaking, a failing and an unreachable host are reported and the others go on' {
        $leaking = $fleet.Hosts | Where-Object Address -eq '127.0.0.3'
        Send-TestTarget $leaking.Target 'leak 200000' | Out-Null
        $failing = $fleet.Hosts | Where-Object Address -eq '127.0.0.4'
        $failing.Target | Stop-TestTarget
        $withUnreachable = $check.Clone()
        $withUnreachable.HostName = @($fleet.Hosts.Address) + '127.0.0.9'   # nothing listens there

        $verdicts = & $runbook @withUnreachable
        $LASTEXITCODE | Should -Be 1
        $verdicts | Format-Table Host, Rule, Subject, Observed, Limit, Passed, Message -AutoSize -Wrap | Out-String -Width 200 | Write-Host

        $verdicts | Where-Object Host -eq '127.0.0.9' | ForEach-Object {
            $_.Rule | Should -Be 'Reachable'
            $_.Passed | Should -BeFalse
        }
        $gone = $verdicts | Where-Object Host -eq '127.0.0.4'
        $gone.Rule | Should -Be 'Snapshot'
        $gone.Message | Should -BeLike 'ProcessNotFound*'

        # The leak, measured against that host's own baseline: exactly the 200,000 new orders of 80 bytes.
        $growth = $verdicts | Where-Object { $_.Host -eq '127.0.0.3' -and $_.Rule -eq 'growth' }
        $growth.Passed | Should -BeFalse
        $growth.Observed | Should -Be (200000 * 80)
        ($verdicts | Where-Object { $_.Host -eq '127.0.0.3' -and $_.Rule -eq 'level' }).Passed | Should -BeFalse

        # The healthy host passed every rule and only it was saved.
        $healthy = $verdicts | Where-Object Host -eq '127.0.0.2'
        $healthy.Rule | Sort-Object -Unique | Should -Be @('growth', 'level')
        $healthy.Passed | Should -Not -Contain $false
        (Get-MemoryBaseline -Name orders -Store $store -Host 127.0.0.2 -History) | Should -HaveCount 2
        (Get-MemoryBaseline -Name orders -Store $store -Host 127.0.0.3 -History) | Should -HaveCount 1
        (Get-MemoryBaseline -Name orders -Store $store -Host 127.0.0.4 -History) | Should -HaveCount 1
    }

    It 'keeps the host a remote object came from as its Host in every cmdlet' {
        $sessions = New-TestFleetSession $fleet -Address 127.0.0.2, 127.0.0.3
        try {
            $remote = Invoke-Command -Session $sessions -ThrottleLimit 8 { Get-DotNetProcess -Name TestTarget | New-HeapSnapshot }
            $processes = Invoke-Command -Session $sessions -ThrottleLimit 8 { Get-DotNetProcess -Name TestTarget }
        } finally { $sessions | Remove-PSSession }
        # The process listing too: a report of the fleet files each process under its own host.
        $page = Join-Path $TestDrive 'fleet.html'
        $processes | Export-MemoryReport -Path $page -ErrorAction Stop
        $html = Get-Content -LiteralPath $page -Raw
        $html | Should -Match '<td class="name">127\.0\.0\.2</td>'
        $html | Should -Match '<td class="name">127\.0\.0\.3</td>'
        $remote | Should -HaveCount 2
        $results = $remote | Test-MemoryThreshold -Rule (New-MemoryRule -Counter TotalBytes -Maximum 1TB)
        ($results.Host | Sort-Object) | Should -Be @('127.0.0.2', '127.0.0.3')
        # Same PID space, different hosts: one result per host even if the two targets had the same PID.
        $exported = Join-Path $TestDrive 'remote.json.gz'
        $remote[0] | Export-HeapSnapshot -Path $exported
        (Import-HeapSnapshot $exported).Host | Should -Be $remote[0].PSComputerName
    }
}

Describe 'Remove-MemoryBaseline' {
    BeforeEach {
        $script:store = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        $s = New-HeapSnapshot -ProcessId $target.ProcessId
        foreach ($h in 'web1', 'web2') {
            foreach ($day in 3, 2, 1) {
                $s.Host = $h
                $s.Timestamp = [DateTime]::UtcNow.AddDays(-$day)
                $s | Save-MemoryBaseline -Name orders -Store $store
            }
        }
    }

    It 'removes the entries older than a date, of one host, and returns them with -PassThru' {
        $removed = Remove-MemoryBaseline -Name orders -Store $store -Host web1 -Before ([DateTime]::UtcNow.AddDays(-1.5)) -PassThru -Confirm:$false
        $removed | Should -HaveCount 2
        $removed.Host | Sort-Object -Unique | Should -Be 'web1'
        (Get-MemoryBaseline -Name orders -Store $store -History).Count | Should -Be 4
        (Get-MemoryBaseline -Name orders -Store $store -Host web2 -History).Count | Should -Be 3
    }

    It 'removes a whole baseline, and -WhatIf removes nothing' {
        Remove-MemoryBaseline -Name orders -Store $store -WhatIf
        (Get-MemoryBaseline -Name orders -Store $store -History).Count | Should -Be 6
        Remove-MemoryBaseline -Name ord* -Store $store -Confirm:$false
        Get-MemoryBaseline -Store $store | Should -BeNullOrEmpty
        { Remove-MemoryBaseline -Name orders -Store $store -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'BaselineNotFound*'
    }
}

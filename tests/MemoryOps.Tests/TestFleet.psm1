# A fleet of real hosts on one machine for the remoting tests: one OpenSSH server per loopback address
# (127.0.0.2, 127.0.0.3, ...), each with PowerShell registered as its SSH subsystem (the module on its path) and its
# own TestTarget. Each host has its own TMPDIR, where only its own target publishes its diagnostic socket, so
# Get-DotNetProcess on a host sees that host's service and no other, as on separate machines.
Import-Module (Join-Path $PSScriptRoot 'TestTarget.psm1')

function Install-DebianPackage {
    <# Installs Debian packages when a command they provide is missing (CI runs as root on a fresh machine).
       Service start-up during installation is blocked: the tests start what they need, on loopback, themselves. #>
    param([Parameter(Mandatory)] [string] $Command, [Parameter(Mandatory)] [string[]] $Package)
    if (Get-Command $Command -ErrorAction SilentlyContinue) { return }
    if ((id -u) -ne '0') { throw "'$Command' is missing and only root can install $Package." }
    $policy = '/usr/sbin/policy-rc.d'
    $ownPolicy = -not (Test-Path $policy)
    if ($ownPolicy) { Set-Content $policy "#!/bin/sh`nexit 101"; chmod 755 $policy }
    try {
        $env:DEBIAN_FRONTEND = 'noninteractive'
        $out = apt-get install -y -q --no-install-recommends @Package 2>&1
        if ($LASTEXITCODE -ne 0) {
            $null = apt-get update -q 2>&1
            $out = apt-get install -y -q --no-install-recommends @Package 2>&1
        }
        if ($LASTEXITCODE -ne 0) { throw "apt-get install $Package failed: $($out | Select-Object -Last 5)" }
    } finally { if ($ownPolicy) { Remove-Item $policy -Force } }
    if (-not (Get-Command $Command -ErrorAction SilentlyContinue)) { throw "Installed $Package but '$Command' is still missing." }
}

function Start-TestFleet {
    <# Starts $Count hosts. Returns an object with Hosts (Address, Port, Target, TempDir), KeyFile and a Stop method's data. #>
    param([int] $Count = 2, [int] $Port = 0, [string] $ModulePath = $env:MEMORYOPS_MODULE_PATH, [int] $Orders = 1000)
    Install-DebianPackage -Command sshd -Package openssh-server
    $sshd = (Get-Command sshd).Source
    $root = Join-Path ([IO.Path]::GetTempPath()) "memoryops-fleet-$PID-$([guid]::NewGuid().ToString('N').Substring(0, 6))"
    New-Item -ItemType Directory $root | Out-Null
    chmod 700 $root
    New-Item -ItemType Directory '/run/sshd' -Force | Out-Null   # sshd's privilege-separation folder
    $key = Join-Path $root 'id_ed25519'
    $null = ssh-keygen -q -t ed25519 -N '' -f $key
    if ($Port -eq 0) { $Port = 22000 + ($PID % 2000) }
    # The module's folder holds MemoryOps/<version>/: that parent goes on the remote PSModulePath.
    $modules = Split-Path (Split-Path (Split-Path $ModulePath))
    $pwshDll = Join-Path $PSHOME 'pwsh.dll'
    $dotnet = (Get-Command dotnet).Source
    $fleet = [pscustomobject]@{ Root = $root; KeyFile = $key; Port = $Port; Hosts = [Collections.Generic.List[object]]::new() }
    try {
        for ($i = 0; $i -lt $Count; $i++) {
            $address = "127.0.0.$($i + 2)"
            $dir = Join-Path $root $address
            $tmp = Join-Path $dir 'tmp'
            New-Item -ItemType Directory $dir, $tmp | Out-Null
            $null = ssh-keygen -q -t ed25519 -N '' -f (Join-Path $dir 'host_key')
            Copy-Item "$key.pub" (Join-Path $dir 'authorized_keys')
            # The subsystem runs pwsh with this host's TMPDIR and the module on its path.
            $subsystem = Join-Path $dir 'pwsh-subsystem'
            Set-Content $subsystem "#!/bin/sh`nexport TMPDIR='$tmp' PSModulePath='$modules' HOME='$dir' DOTNET_CLI_HOME='$dir'`nexec '$dotnet' '$pwshDll' -sshs -NoLogo -NoProfile"
            chmod 755 $subsystem
            $config = Join-Path $dir 'sshd_config'
            Set-Content $config @"
ListenAddress ${address}:$Port
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PidFile $dir/sshd.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
MaxStartups 64
MaxSessions 64
Subsystem powershell $subsystem
"@
            $target = Start-TestTarget -Environment @{ TMPDIR = $tmp }
            Send-TestTarget $target "leak $Orders" | Out-Null
            $psi = [Diagnostics.ProcessStartInfo]::new($sshd)
            foreach ($a in '-D', '-e', '-f', $config) { $psi.ArgumentList.Add($a) }
            $psi.UseShellExecute = $false
            $psi.RedirectStandardError = $true
            $server = [Diagnostics.Process]::Start($psi)
            $fleet.Hosts.Add([pscustomobject]@{ Address = $address; Port = $Port; Target = $target; TempDir = $tmp; Server = $server })
        }
        # Ready when each server accepts a connection (bounded).
        foreach ($h in $fleet.Hosts) {
            $deadline = [DateTime]::UtcNow.AddSeconds(20)
            while ($true) {
                if ($h.Server.HasExited) { throw "sshd on $($h.Address) exited: $($h.Server.StandardError.ReadToEnd())" }
                $client = [Net.Sockets.TcpClient]::new()
                try { $client.Connect($h.Address, $h.Port); break } catch { } finally { $client.Dispose() }
                if ([DateTime]::UtcNow -gt $deadline) { throw "sshd on $($h.Address):$($h.Port) did not listen within 20 s." }
                Start-Sleep -Milliseconds 100
            }
        }
    } catch {
        Stop-TestFleet $fleet
        throw
    }
    $fleet
}

function New-TestFleetSession {
    <# PowerShell sessions over SSH to the given hosts (all of the fleet's by default), with the fleet's key. #>
    param([Parameter(Mandatory)] $Fleet, [string[]] $Address = $Fleet.Hosts.Address)
    $options = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }
    foreach ($a in $Address) {
        New-PSSession -HostName $a -Port $Fleet.Port -UserName root -KeyFilePath $Fleet.KeyFile -Options $options -ErrorAction Stop
    }
}

function Stop-TestFleet {
    param([Parameter(Mandatory)] $Fleet)
    foreach ($h in $Fleet.Hosts) {
        try { if (-not $h.Server.HasExited) { $h.Server.Kill($true); $null = $h.Server.WaitForExit(5000) } } catch { }
        $h.Target | Stop-TestTarget
    }
    Remove-Item $Fleet.Root -Recurse -Force -ErrorAction SilentlyContinue
}

Export-ModuleMember -Function Install-DebianPackage, Start-TestFleet, New-TestFleetSession, Stop-TestFleet

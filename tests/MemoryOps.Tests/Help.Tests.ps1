# Every exported cmdlet has real help, and its docs page agrees with the cmdlet's metadata: a parameter added,
# renamed, made mandatory or moved to another set without updating docs/en-US fails here.
BeforeDiscovery {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    $script:cmdlets = (Get-Module MemoryOps).ExportedCmdlets.Keys | Sort-Object | ForEach-Object { @{ Name = $_ } }
}

BeforeAll {
    Import-Module $env:MEMORYOPS_MODULE_PATH -Force
    $script:docs = Join-Path $PSScriptRoot '../../docs/en-US'
    $script:common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters

    function Read-HelpPage([string] $Path) {
        # Just enough of PlatyPS's schema for the drift checks: sections, syntax blocks, parameters' yaml, example code.
        $lines = Get-Content $Path
        $page = @{ Syntax = [ordered]@{}; Parameters = [ordered]@{}; Examples = [System.Collections.Generic.List[string]]::new() }
        $section = ''; $sub = ''; $fence = $null; $buffer = [System.Collections.Generic.List[string]]::new()
        foreach ($line in $lines) {
            if ($null -ne $fence) {
                if ($line -match '^```\s*$') {
                    $text = $buffer -join "`n"
                    switch ($section) {
                        'SYNTAX' { $page.Syntax[$sub] = ($text -replace '\s+', ' ').Trim() }
                        'PARAMETERS' {
                            if ($fence -eq 'yaml' -and $sub -ne 'CommonParameters') {
                                $meta = @{}
                                foreach ($l in $buffer) { if ($l -match '^([^:]+):\s*(.*)$') { $meta[$Matches[1].Trim()] = $Matches[2].Trim() } }
                                if (-not $page.Parameters.Contains($sub)) { $page.Parameters[$sub] = [System.Collections.Generic.List[hashtable]]::new() }
                                $page.Parameters[$sub].Add($meta)
                            }
                        }
                        'EXAMPLES' { if ($fence -eq 'powershell') { $page.Examples.Add($text) } }
                    }
                    $fence = $null; $buffer.Clear()
                } else { $buffer.Add($line) }
                continue
            }
            if ($line -match '^```(\w*)') { $fence = $Matches[1]; continue }
            if ($line -match '^## (.+)$') { $section = $Matches[1].Trim(); $sub = ''; continue }
            if ($line -match '^### (.+)$') { $sub = ($Matches[1].Trim() -replace ' \(Default\)$', '') -replace '^-', ''; continue }
        }
        $page
    }
}

Describe 'Help for <Name>' -ForEach $cmdlets {
    BeforeAll {
        $command = Get-Command $Name
        $help = Get-Help $Name -Full
        $pagePath = Join-Path $docs "$Name.md"
        $page = Read-HelpPage $pagePath
        $realParameters = $command.Parameters.Values | Where-Object { $_.Name -notin $common -or ($_.Name -in 'WhatIf', 'Confirm') }
    }

    It 'has a docs page' {
        Test-Path $pagePath | Should -BeTrue
    }

    It 'has a synopsis, a description and at least two examples' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -BeLike "$Name *" -Because 'an auto-generated synopsis is just the syntax'
        ($help.description.Text -join '') | Should -Not -BeNullOrEmpty
        @($help.examples.example).Count | Should -BeGreaterOrEqual 2
    }

    It 'describes every parameter' {
        foreach ($p in $realParameters) {
            $doc = $help.parameters.parameter | Where-Object name -eq $p.Name
            ($doc.description.Text -join '') | Should -Not -BeNullOrEmpty -Because "-$($p.Name) needs a description"
        }
    }

    It 'documents exactly the real parameters' {
        @($page.Parameters.Keys | Sort-Object) | Should -Be @($realParameters.Name | Sort-Object)
    }

    It 'has each parameter''s type, sets, position, mandatory, aliases, pipeline and wildcard flags right' {
        $problems = foreach ($p in $realParameters) {
            $blocks = $page.Parameters[$p.Name]
            if (-not $blocks) { continue }
            $wildcards = [bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
            $sets = @($command.ParameterSets | Where-Object { $_.Parameters.Name -contains $p.Name })
            foreach ($set in $sets) {
                $meta = $blocks | Where-Object { $_['Parameter Sets'] -eq '(All)' -or (($_['Parameter Sets'] -split ',').Trim() -contains $set.Name) } | Select-Object -First 1
                if (-not $meta) { "-$($p.Name): no yaml block covers set $($set.Name)"; continue }
                $info = $set.Parameters | Where-Object Name -eq $p.Name
                if ($meta.Type -ne $p.ParameterType.Name) { "-$($p.Name): Type '$($meta.Type)' but is $($p.ParameterType.Name)" }
                if ([bool]::Parse($meta.Required) -ne $info.IsMandatory) { "-$($p.Name) in $($set.Name): Required $($meta.Required) but is $($info.IsMandatory)" }
                $position = if ($info.Position -lt 0) { 'Named' } else { "$($info.Position)" }
                if ($meta.Position -ne $position) { "-$($p.Name) in $($set.Name): Position $($meta.Position) but is $position" }
                $byValue = $meta['Accept pipeline input'] -match 'ByValue'
                $byName = $meta['Accept pipeline input'] -match 'ByPropertyName'
                if ($byValue -ne $info.ValueFromPipeline -or $byName -ne $info.ValueFromPipelineByPropertyName) { "-$($p.Name) in $($set.Name): pipeline '$($meta['Accept pipeline input'])' is wrong" }
                $aliases = @(($meta.Aliases -split ',').Trim() | Where-Object { $_ })
                if ((@($aliases | Sort-Object) -join ',') -ne (@($p.Aliases | Sort-Object) -join ',')) { "-$($p.Name): Aliases '$($meta.Aliases)' but are '$($p.Aliases -join ', ')'" }
                if ([bool]::Parse($meta['Accept wildcard characters']) -ne $wildcards) { "-$($p.Name): wildcards $($meta['Accept wildcard characters']) but is $wildcards" }
            }
            foreach ($meta in $blocks) {
                if ($meta['Parameter Sets'] -eq '(All)' -and $sets.Count -ne $command.ParameterSets.Count) { "-$($p.Name): says (All) sets but is only in $($sets.Name -join ', ')" }
            }
        }
        $problems | Should -BeNullOrEmpty
    }

    It 'has a SYNTAX block per parameter set that matches Get-Command' {
        @($page.Syntax.Keys | Sort-Object) | Should -Be @($command.ParameterSets.Name | Sort-Object)
        foreach ($set in $command.ParameterSets) {
            $page.Syntax[$set.Name] | Should -Be ("$Name $set" -replace '\s+', ' ').Trim() -Because "set $($set.Name)"
        }
    }

    It 'has example code that parses' {
        $page.Examples.Count | Should -BeGreaterOrEqual 2
        foreach ($code in $page.Examples) {
            $errors = $null
            [System.Management.Automation.Language.Parser]::ParseInput(($code -replace '(?m)^PS[^>]*> ', ''), [ref]$null, [ref]$errors) | Out-Null
            $errors | Should -BeNullOrEmpty -Because $code
        }
    }
}

Describe 'about_MemoryOps' {
    It 'is built into the module and shown by Get-Help' {
        $moduleDir = Split-Path $env:MEMORYOPS_MODULE_PATH
        Test-Path (Join-Path $moduleDir 'en-US/about_MemoryOps.help.txt') | Should -BeTrue
        $text = Get-Help about_MemoryOps | Out-String
        $text | Should -Match 'SHORT DESCRIPTION'
        $text | Should -Match 'full,? blocking'
    }
}

Describe 'One table of error IDs' {
    It 'lists every FailureKind in about_MemoryOps with the category the cmdlets give it' {
        $about = (Get-Content (Join-Path $PSScriptRoot '../../docs/en-US/about_MemoryOps.help.md') -Raw) -replace '(?s)^.*?## ERROR IDS', '' -replace '(?s)\n## .*$', ''
        $about = $about -split "`n"
        $rows = @{}
        foreach ($line in $about) { if ($line -match '^\| (\w+) \| (\w+) \|') { $rows[$Matches[1]] = $Matches[2] } }
        $categoryOf = [MemoryOps.MemoryOpsCmdlet].GetMethod('CategoryOf', [Reflection.BindingFlags]'NonPublic, Static')
        $kinds = [MemoryOps.HeapSnapshot].Assembly.GetType('MemoryOps.Engine.FailureKind').GetEnumValues()
        foreach ($kind in $kinds) {
            $rows.ContainsKey("$kind") | Should -BeTrue -Because "$kind needs a row in about_MemoryOps"
            "$($categoryOf.Invoke($null, @($kind)))" | Should -Be $rows["$kind"] -Because "the row of $kind says its category"
            if ("$kind" -ne 'Unexpected') { "$($categoryOf.Invoke($null, @($kind)))" | Should -Not -Be 'NotSpecified' }
        }
        $rows.Keys | Where-Object { $_ -notin @($kinds | ForEach-Object { "$_" }) } | Should -BeNullOrEmpty
    }
}

<#
.SYNOPSIS
    Reads damaged copies of one real dump with the dump cmdlets, all in this one process (each read in its own
    dump reader process, as the cmdlets do), and prints one line per case. Run by HostileDump.Tests.ps1 in a child
    pwsh, so a case that kills this process shows as a non-zero exit (the last "case" line printed names it, with
    the seed that rebuilds it).
.DESCRIPTION
    Case i of seed S is rebuilt from System.Random(S + i) alone, so "-Seed S -First i -Count 1" replays it.
    Kinds, in turn: ~1,000 random byte flips anywhere; truncation at a random length; random damage to the ELF
    notes (NT_FILE, NT_PRSTATUS, NT_AUXV: the module list ClrMD parses first), including one file entry copied
    over another; random damage to the ELF and program headers. Readers, in turn: New-HeapSnapshot,
    New-HeapSnapshot -LiveOnly, Get-HeapRetention -RetainedSize.
    Each case must end in a snapshot / retention rows, or in an error whose id is a dump failure kind (or Timeout: the
    reader is ended after a minute plus a second per 5 MB, when a damaged dump sends it round a loop) and whose
    message names the file. Anything else is printed as BAD.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $DumpPath,
    [Parameter(Mandatory)] [string] $WorkFolder,
    [Parameter(Mandatory)] [int] $Seed,
    [int] $First = 0,
    [int] $Count = 200,
    # Leave the damaged copies in WorkFolder (to replay a case by hand).
    [switch] $Keep
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$original = [IO.File]::ReadAllBytes($DumpPath)
$work = [byte[]]::new($original.Length)
[Array]::Copy($original, $work, $original.Length)

# ELF64 layout of the dump: program headers, and the PT_NOTE segment(s).
$phoff = [BitConverter]::ToUInt64($original, 0x20); $phentsize = [BitConverter]::ToUInt16($original, 0x36); $phnum = [BitConverter]::ToUInt16($original, 0x38)
$notes = foreach ($i in 0..($phnum - 1)) {
    $at = [int]$phoff + $i * $phentsize
    if ([BitConverter]::ToUInt32($original, $at) -eq 4) { [pscustomobject]@{ Offset = [long][BitConverter]::ToUInt64($original, $at + 8); Size = [long][BitConverter]::ToUInt64($original, $at + 0x20) } }
}
if (-not $notes) { throw "No PT_NOTE segment in '$DumpPath': not an ELF core dump?" }
$headerEnd = [int]$phoff + $phentsize * $phnum
"seed=$Seed cases=$First..$($First + $Count - 1) dump=$($original.Length) bytes notes=$(($notes | ForEach-Object { "$($_.Offset)+$($_.Size)" }) -join ',')"

$allowed = '^(InvalidData|UnsupportedVersion|InvalidInput|Timeout),'
$clock = [Diagnostics.Stopwatch]::StartNew()
$counts = @{}
for ($case = $First; $case -lt $First + $Count; $case++) {
    $random = [Random]::new($Seed + $case)
    $kind = ('flips', 'truncate', 'notes', 'headers')[$case % 4]
    $path = Join-Path $WorkFolder ("fuzz-{0:d3}.dmp" -f $case)
    $changed = [Collections.Generic.List[int]]::new()
    $length = $original.Length
    switch ($kind) {
        'flips' {
            for ($k = 0; $k -lt 1000; $k++) { $at = $random.Next($original.Length); $changed.Add($at); $work[$at] = [byte]($work[$at] -bxor (1 + $random.Next(255))) }
        }
        'truncate' {
            # Half the cuts fall in the first MB (headers, notes, the runtime's first pages), half anywhere.
            $length = if ($random.Next(2) -eq 0) { $random.Next([Math]::Min(1MB, $original.Length)) } else { $random.Next($original.Length) }
        }
        'notes' {
            $note = $notes[$random.Next($notes.Count)]
            $n = 1 + $random.Next(64)
            for ($k = 0; $k -lt $n; $k++) { $at = [int]($note.Offset + $random.Next([int]$note.Size)); $changed.Add($at); $work[$at] = [byte]$random.Next(256) }
            if ($random.Next(2) -eq 0) {
                # One 24-byte stretch copied over another: NT_FILE's (start, end, offset) triples, or its file names.
                $from = [int]($note.Offset + $random.Next([int]$note.Size - 24)); $to = [int]($note.Offset + $random.Next([int]$note.Size - 24))
                for ($k = 0; $k -lt 24; $k++) { $changed.Add($to + $k); $work[$to + $k] = $original[$from + $k] }
            }
        }
        'headers' {
            $n = 1 + $random.Next(16)
            for ($k = 0; $k -lt $n; $k++) { $at = 16 + $random.Next($headerEnd - 16); $changed.Add($at); $work[$at] = [byte]$random.Next(256) }
        }
    }
    $stream = [IO.File]::Create($path)
    try { $stream.Write($work, 0, $length) } finally { $stream.Dispose() }
    foreach ($at in $changed) { $work[$at] = $original[$at] }

    $reader = ('New-HeapSnapshot', 'New-HeapSnapshot -LiveOnly', 'Get-HeapRetention -RetainedSize')[$case % 3]
    "case $case seed=$Seed kind=$kind length=$length reader=$reader"
    [Console]::Out.Flush()
    $err = $null
    $out = switch ($case % 3) {
        0 { New-HeapSnapshot -DumpPath $path -ErrorVariable err -ErrorAction SilentlyContinue }
        1 { New-HeapSnapshot -DumpPath $path -LiveOnly -ErrorVariable err -ErrorAction SilentlyContinue }
        2 { Get-HeapRetention -DumpPath $path -RetainedSize -Top 5 -ErrorVariable err -ErrorAction SilentlyContinue }
    }
    $outcome = if ($err) {
        $e = $err[0]
        $id = $e.FullyQualifiedErrorId
        $message = $e.Exception.Message
        if ($id -match $allowed -and $message.Contains($path)) { ($id -split ",")[0] + " " + $message.Replace("`n", " ") }
        else { "BAD error '$id': $message" }
    } elseif ($out) { 'read' } else { 'BAD: neither output nor error' }
    $counts[($outcome -split ' ')[0]]++
    "result $case $outcome"
    if (-not $Keep) { Remove-Item -LiteralPath $path }
}
"summary seconds=$([int]$clock.Elapsed.TotalSeconds) " + (($counts.GetEnumerator() | Sort-Object Name | ForEach-Object { "$($_.Name)=$($_.Value)" }) -join ' ')

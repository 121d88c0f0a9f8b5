using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using MemoryOps.Engine;
using MemoryOps.Engine.IO;
using MemoryOps.Engine.Rules;

namespace MemoryOps.Commands
{
    /// <summary>Reads the rules of a policy file (.psd1 or .json) for Test-MemoryThreshold.</summary>
    [Cmdlet(VerbsData.Import, "MemoryPolicy", DefaultParameterSetName = PathSet)]
    [OutputType(typeof(MemoryRule))]
    public sealed class ImportMemoryPolicyCommand : MemoryOpsCmdlet
    {
        private const string PathSet = "Path";
        private const string LiteralPathSet = "LiteralPath";

        /// <summary>Policy files (.psd1 or .json); wildcards.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = Array.Empty<string>();

        /// <summary>Policy files, taken as written (no wildcards); Get-ChildItem output binds here.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
        [Alias("PSPath", "LP")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; } = Array.Empty<string>();

        /// <summary>The most bytes one policy file may hold (4 MB by default; a policy of a thousand rules is under 200 KB); the limits on JSON values and name length grow with it.</summary>
        [Parameter]
        [ValidateRange(InputLimits.SmallestMaximumInputSize, InputLimits.LargestMaximumInputSize)]
        public long MaximumInputSize { get; set; } = InputLimits.DefaultPolicyMaximumInputSize;

        protected override void ProcessRecord()
        {
            bool literal = ParameterSetName == LiteralPathSet;
            foreach (var full in ResolveInputPaths(literal ? LiteralPath : Path, literal))
            {
                try
                {
                    WriteVerbose($"Reading the policy {full}.");
                    var limits = new InputLimits(MaximumInputSize);
                    var rules = full.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? MemoryPolicy.ReadJsonFile(full, limits) : ReadDataFile(full, limits);
                    foreach (var rule in rules) WriteVerbose($"  {rule.Kind} rule '{rule.Name}': {rule}");
                    WriteObject(rules, enumerateCollection: true);
                }
                catch (MemoryOpsException e) { WriteFailure(e, full); }
                catch (Exception e) when (e is System.IO.IOException || e is UnauthorizedAccessException) { WriteFailure(e, full); }
            }
        }

        /// <summary>
        /// A PowerShell data file, read the way Import-PowerShellDataFile reads it: parsed, never run; only constant
        /// values (numbers such as 512MB, strings, arrays, hashtables) are accepted, so a policy cannot run code.
        /// </summary>
        private static List<MemoryRule> ReadDataFile(string full, InputLimits limits)
        {
            if (!File.Exists(full)) throw new MemoryOpsException(FailureKind.PathNotFound, $"The policy file '{full}' does not exist.", full);
            if (!full.EndsWith(".psd1", StringComparison.OrdinalIgnoreCase))
                throw new MemoryOpsException(FailureKind.InvalidInput, $"'{full}' is neither a .psd1 nor a .json policy file.", full);
            // Read by the engine (a regular file only, size-bounded), then parsed from memory: Parser.ParseFile would
            // open a planted FIFO and wait forever, or read /dev/zero until memory runs out.
            var bytes = MemoryPolicy.ReadPolicyBytes(full, limits, full);
            string text;
            using (var reader = new StreamReader(new MemoryStream(bytes.ToArray(), writable: false), new System.Text.UTF8Encoding(false), detectEncodingFromByteOrderMarks: true))
                text = reader.ReadToEnd();
            var ast = Parser.ParseInput(text, full, out _, out var errors);
            if (errors.Length > 0)
                throw new MemoryOpsException(FailureKind.InvalidData, $"The policy file '{full}' does not parse: line {errors[0].Extent.StartLineNumber}: {errors[0].Message}", full);
            var table = ast.Find(a => a is HashtableAst, searchNestedScriptBlocks: false) as HashtableAst;
            if (table == null || ast.EndBlock?.Statements.Count != 1)
                throw new MemoryOpsException(FailureKind.InvalidData, $"The policy file '{full}' must hold one hashtable: @{{ Rules = @( ... ) }}.", full);
            object data;
            try { data = table.SafeGetValue(); }
            catch (InvalidOperationException e)
            {
                throw new MemoryOpsException(FailureKind.InvalidData, $"The policy file '{full}' holds something that is not a constant value (a command or a variable?): {e.Message}", full, e);
            }
            return MemoryPolicy.FromData(data, full);
        }
    }
}

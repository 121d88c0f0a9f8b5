using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.Baselines;
using MemoryOps.Engine.IO;
using MemoryOps.Engine.Rules;

namespace MemoryOps.Commands
{
    /// <summary>
    /// Holds counter samples, GC records and summaries, heap snapshots and type deltas to rules. It streams: a
    /// failure is emitted the moment it happens, the passes when the input ends, one result per rule and subject.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "MemoryThreshold", DefaultParameterSetName = ResultsSet)]
    [OutputType(typeof(ThresholdResult), ParameterSetName = new[] { ResultsSet, AssertSet })]
    [OutputType(typeof(bool), ParameterSetName = new[] { QuietSet })]
    public sealed class TestMemoryThresholdCommand : MemoryOpsCmdlet
    {
        private const string ResultsSet = "Results";
        private const string AssertSet = "Assert";
        private const string QuietSet = "Quiet";

        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        [MemoryOpsObjectTransformation]
        public MemoryRule[] Rule { get; set; } = Array.Empty<MemoryRule>();

        /// <summary>A CounterSample, GcEventRecord, GcSummary, HeapSnapshot, HeapTypeDelta, HeapComparison or AllocationProfile.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        public PSObject InputObject { get; set; } = null!;

        /// <summary>End with a terminating error that lists every violation (so a script run by pwsh -File exits non-zero).</summary>
        [Parameter(Mandatory = true, ParameterSetName = AssertSet)]
        public SwitchParameter Assert { get; set; }

        /// <summary>Return only $true (no Error or Critical rule failed) or $false.</summary>
        [Parameter(Mandatory = true, ParameterSetName = QuietSet)]
        public SwitchParameter Quiet { get; set; }

        /// <summary>Let an input with nothing in it pass -Assert and -Quiet (by default a check that observed nothing fails).</summary>
        [Parameter]
        public SwitchParameter AllowNoObservations { get; set; }

        /// <summary>The most bytes one baseline file that a rule names may hold once decompressed (256 MB by default); the limits on JSON values and name length grow with it.</summary>
        [Parameter]
        [ValidateRange(InputLimits.SmallestMaximumInputSize, InputLimits.LargestMaximumInputSize)]
        public long MaximumInputSize { get; set; } = InputLimits.DefaultBaselineMaximumInputSize;

        private ThresholdEvaluator evaluator = null!;
        private readonly List<ThresholdResult> violations = new List<ThresholdResult>();
        private int inputs;

        protected override void BeginProcessing()
        {
            // Read each baseline a rule names once, now: a check against a baseline that is not there is misconfigured,
            // and says so before any input is read.
            var statistics = new Dictionary<(string, string), BaselineHistory>();
            // Each rule's store resolved once, here, against the current location (a relative Store or MEMORYOPS_BASELINE_STORE).
            var storeOf = new Dictionary<MemoryRule, string>(ReferenceEqualityComparer.Instance);
            foreach (var rule in Rule.Where(r => r.Kind == MemoryRuleKind.Baseline))
            {
                try
                {
                    var store = OpenBaselineStore(rule.Store, MaximumInputSize);
                    storeOf[rule] = store.Path;
                    var key = (store.Path, rule.Baseline!);
                    if (statistics.ContainsKey(key)) continue;
                    var history = store.Read(rule.Baseline!);
                    WriteVerbose($"Baseline '{rule.Baseline}' from {store.FileOf(rule.Baseline!)}: {history.Count} entries.");
                    statistics[key] = new BaselineHistory(rule.Baseline!, history);
                }
                catch (Exception e) when (e is MemoryOpsException || e is System.IO.IOException || e is UnauthorizedAccessException) { ThrowTerminatingError(ToErrorRecord(e, rule)); }
            }
            try
            {
                evaluator = new ThresholdEvaluator(Rule, (r, host) => statistics[(storeOf[r], r.Baseline!)].For(host));
            }
            catch (MemoryOpsException e) { ThrowTerminatingError(ToErrorRecord(e, asKind: FailureKind.InvalidRule)); }
        }

        protected override void ProcessRecord()
        {
            object? input;
            try { input = ModelOf(InputObject); }
            catch (MemoryOpsException e) { WriteFailure(e, InputObject); return; }
            if (input == null || !evaluator.TryObserve(input, out var results))
            {
                WriteFailure(new MemoryOpsException(FailureKind.UnsupportedInput,
                    $"Test-MemoryThreshold reads CounterSample, GcEventRecord, GcSummary, HeapSnapshot, HeapTypeDelta, HeapComparison, ProcessMemoryInfo and AllocationProfile objects, not {Rehydrator.TypeNameOf(InputObject)}.", input));
                return;
            }
            inputs++;
            Emit(results);
        }

        protected override void EndProcessing()
        {
            Emit(evaluator.Complete());
            foreach (var warning in evaluator.Warnings) WriteWarning(warning);
            if (inputs > 0)
                foreach (var rule in evaluator.UnmatchedRules)
                    WriteWarning(evaluator.ExplainUnmatched(rule));

            // An unattended check fed nothing (-Name matched no process upstream, a counter was misspelt, a collector
            // failed) has checked nothing: passing it would report a healthy service that nobody looked at.
            if (inputs == 0 && !AllowNoObservations)
            {
                var nothing = new MemoryOpsException(FailureKind.NoObservations,
                    "Test-MemoryThreshold received nothing to check: no counter sample, GC record, snapshot or comparison reached it " +
                    "(did -Name or -Counter match nothing upstream, or did the collector fail?). " +
                    (Assert || Quiet ? "The check fails. " : "") + "Add -AllowNoObservations if an empty input is a pass.");
                if (Assert) ThrowTerminatingError(ToErrorRecord(nothing, Rule));
                WriteWarning(nothing.Message);
                if (Quiet) { WriteObject(false); return; }
            }

            if (Quiet) WriteObject(violations.Count == 0);
            else if (Assert && violations.Count > 0)
            {
                string list = string.Join(Environment.NewLine, violations.Select(v => $"  [{v.Severity}] {Display.Escape(v.Rule)}: {Where(v)}{Display.Escape(v.Message)}"));
                var e = new MemoryThresholdException($"{violations.Count} memory rule violation(s):{Environment.NewLine}{list}", violations.ToArray());
                // ErrorDetails holds the message as made, line breaks and all: its parts are escaped already.
                var record = new ErrorRecord(e, nameof(FailureKind.ThresholdViolated), CategoryOf(FailureKind.ThresholdViolated), violations.ToArray()) { ErrorDetails = new ErrorDetails(e.Message) };
                ThrowTerminatingError(record);
            }
        }

        private void Emit(IEnumerable<ThresholdResult> results)
        {
            foreach (var r in results)
            {
                WriteVerbose($"{(r.Passed ? "PASS" : "FAIL")} {r.Rule}: {Where(r)}{r.Message}");
                if (r.IsViolation) violations.Add(r);
                else if (!r.Passed) WriteWarning($"{r.Rule}: {Where(r)}{r.Message}");
                if (!Quiet) WriteObject(r);
            }
        }

        // Rule and process names are escaped here as well as by WriteWarning: the -Assert list is one message of several
        // lines, so it cannot be escaped whole, only part by part (Message is escaped when it is made).
        private static string Where(ThresholdResult r) =>
            (r.Host.Length > 0 && !string.Equals(r.Host, Environment.MachineName, StringComparison.OrdinalIgnoreCase) ? Display.Escape(r.Host) + ": " : "") +
            (r.ProcessId != 0 ? $"{Display.Escape(r.ProcessName)} ({r.ProcessId}) " : "");
    }

    /// <summary>The error -Assert ends with; <see cref="Violations"/> holds the failed results.</summary>
    public sealed class MemoryThresholdException : Exception
    {
        public ThresholdResult[] Violations { get; }
        public MemoryThresholdException(string message, ThresholdResult[] violations) : base(message) { Violations = violations; }
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using MemoryOps.Engine;

namespace MemoryOps
{
    /// <summary>Counter: a limit on a counter or metric. Type: limits on a heap type. Baseline: a limit on drift from a saved baseline.</summary>
    public enum MemoryRuleKind { Counter, Type, Baseline }

    /// <summary>How a series of samples becomes the one value a counter rule checks.</summary>
    public enum RuleStatistic { Last, Mean, Max, Min, P95 }

    /// <summary>Warning results never fail -Assert or -Quiet; Error and Critical ones do.</summary>
    public enum RuleSeverity { Warning, Error, Critical }

    /// <summary>Which way a value may stray from its baseline before a baseline rule fails.</summary>
    public enum BaselineDirection { Both, Above, Below }

    /// <summary>
    /// One rule of a memory policy. The fields that apply depend on <see cref="Kind"/>; <see cref="Validate"/>
    /// says, in one sentence naming the field, what is wrong with a rule that cannot be evaluated.
    /// </summary>
    public sealed class MemoryRule
    {
        public string Name { get; set; } = "";
        public MemoryRuleKind Kind { get; set; }
        public RuleSeverity Severity { get; set; } = RuleSeverity.Error;

        // Counter and baseline rules: which counters or metrics (wildcards), and which statistic of their samples.
        public string[] Counter { get; set; } = Array.Empty<string>();
        public RuleStatistic Statistic { get; set; } = RuleStatistic.Last;
        public double? Maximum { get; set; }
        public double? Minimum { get; set; }
        /// <summary>Only a breach that lasts this long counts (a sliding window, as dotnet-monitor's triggers have).</summary>
        public TimeSpan? For { get; set; }

        // Type rules (and baseline rules on types).
        public string[] TypeName { get; set; } = Array.Empty<string>();
        public long? MaxCount { get; set; }
        public long? MaxBytes { get; set; }
        public long? MaxCountGrowth { get; set; }
        public long? MaxBytesGrowth { get; set; }
        public double? MaxGrowthPercent { get; set; }
        /// <summary>Bytes per second a type may be allocated at (judged on allocation profiles, Get-AllocationProfile).</summary>
        public double? MaxAllocationRate { get; set; }

        // Baseline rules.
        public string? Baseline { get; set; }
        /// <summary>The baseline store folder; null for the default store.</summary>
        public string? Store { get; set; }
        public double? MaxDeviationPercent { get; set; }
        public double? MaxStandardDeviations { get; set; }
        public BaselineDirection Direction { get; set; } = BaselineDirection.Both;

        /// <summary>The longest <see cref="For"/>: 30 days (a breach window longer than that is not a threshold but a trend).</summary>
        public const double MaxForSeconds = 30 * 86400;

        /// <summary>The key in a validation error's <see cref="Exception.Data"/> that names the field at fault, and the one holding the reason alone.</summary>
        public const string FieldKey = "Field", ReasonKey = "Reason";

        /// <summary>Throws a <see cref="MemoryOpsException"/> (InvalidInput) when the rule cannot be evaluated.</summary>
        public void Validate()
        {
            string who = string.IsNullOrEmpty(Name) ? "The rule" : $"Rule '{Name}'";
            MemoryOpsException Bad(string field, string why)
            {
                var e = new MemoryOpsException(FailureKind.InvalidInput, $"{who}: {field} {why}", this);
                e.Data[FieldKey] = field;
                e.Data[ReasonKey] = why;
                return e;
            }
            static bool Bad2(double? d) => d.HasValue && (double.IsNaN(d.Value) || double.IsInfinity(d.Value));

            // Names and patterns are shown in results, warnings and -Assert's message: a control character in one
            // (an escape sequence, a CR/LF that forges a line) has no honest use, so a rule may not hold one.
            const string NoControl = "must not contain control characters (escape sequences, CR, LF): it is shown in results and messages.";
            if (Display.HasControlCharacters(Name)) throw Bad("Name", NoControl);
            if (Counter.Any(Display.HasControlCharacters)) throw Bad("Counter", NoControl);
            if (TypeName.Any(Display.HasControlCharacters)) throw Bad("TypeName", NoControl);
            if (Display.HasControlCharacters(Baseline)) throw Bad("Baseline", NoControl);
            if (Display.HasControlCharacters(Store)) throw Bad("Store", NoControl);

            switch (Kind)
            {
                case MemoryRuleKind.Counter:
                    if (Counter.Length == 0 || Counter.Any(string.IsNullOrWhiteSpace)) throw Bad("Counter", "must name at least one counter or metric (wildcards allowed).");
                    if (Maximum == null && Minimum == null) throw Bad("Maximum", "or Minimum must be given: a counter rule needs a limit.");
                    if (Bad2(Maximum)) throw Bad("Maximum", "must be a finite number.");
                    if (Bad2(Minimum)) throw Bad("Minimum", "must be a finite number.");
                    if (Maximum < Minimum) throw Bad("Maximum", $"({Maximum}) is below Minimum ({Minimum}): no value could pass.");
                    break;
                case MemoryRuleKind.Type:
                    if (TypeName.Length == 0 || TypeName.Any(string.IsNullOrWhiteSpace)) throw Bad("TypeName", "must name at least one type (wildcards allowed).");
                    if (MaxCount == null && MaxBytes == null && MaxCountGrowth == null && MaxBytesGrowth == null && MaxGrowthPercent == null && MaxAllocationRate == null)
                        throw Bad("MaxCount", "MaxBytes, MaxCountGrowth, MaxBytesGrowth, MaxGrowthPercent or MaxAllocationRate must be given: a type rule needs a limit.");
                    if (MaxAllocationRate < 0 || Bad2(MaxAllocationRate)) throw Bad("MaxAllocationRate", "must be a finite number of bytes per second, not negative.");
                    if (MaxCount < 0) throw Bad("MaxCount", "must not be negative.");
                    if (MaxBytes < 0) throw Bad("MaxBytes", "must not be negative.");
                    if (Bad2(MaxGrowthPercent)) throw Bad("MaxGrowthPercent", "must be a finite number.");
                    break;
                case MemoryRuleKind.Baseline:
                    if (string.IsNullOrWhiteSpace(Baseline)) throw Bad("Baseline", "must name a saved baseline.");
                    if (Counter.Length == 0 && TypeName.Length == 0) throw Bad("Counter", "or TypeName must say what to compare with the baseline.");
                    if (MaxDeviationPercent == null && MaxStandardDeviations == null)
                        throw Bad("MaxDeviationPercent", "or MaxStandardDeviations must be given: a baseline rule needs a limit.");
                    if (MaxDeviationPercent <= 0 || Bad2(MaxDeviationPercent)) throw Bad("MaxDeviationPercent", "must be a positive number.");
                    if (MaxStandardDeviations <= 0 || Bad2(MaxStandardDeviations)) throw Bad("MaxStandardDeviations", "must be a positive number.");
                    break;
            }
            if (For.HasValue && For.Value < TimeSpan.Zero) throw Bad("For", "must not be negative.");
            if (For.HasValue && For.Value.TotalSeconds > MaxForSeconds) throw Bad("For", $"must be at most {MaxForSeconds / 86400:0} days.");
        }

        /// <summary>A name for rules made without one: what they check, short.</summary>
        public string DefaultName() => Kind switch
        {
            MemoryRuleKind.Counter => string.Join(",", Counter),
            MemoryRuleKind.Type => string.Join(",", TypeName),
            _ => $"{Baseline}:{string.Join(",", Counter.Concat(TypeName))}",
        };

        public override string ToString()
        {
            var parts = new List<string>();
            switch (Kind)
            {
                case MemoryRuleKind.Counter:
                    parts.Add($"{Statistic}({string.Join(", ", Counter)})");
                    if (Minimum.HasValue) parts.Add($">= {Minimum.Value.ToString(CultureInfo.InvariantCulture)}");
                    if (Maximum.HasValue) parts.Add($"<= {Maximum.Value.ToString(CultureInfo.InvariantCulture)}");
                    if (For.HasValue) parts.Add($"(breach counts after {For.Value.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s)");
                    break;
                case MemoryRuleKind.Type:
                    parts.Add(string.Join(", ", TypeName) + ":");
                    if (MaxCount.HasValue) parts.Add($"Count <= {MaxCount}");
                    if (MaxBytes.HasValue) parts.Add($"Bytes <= {MaxBytes}");
                    if (MaxCountGrowth.HasValue) parts.Add($"CountDelta <= {MaxCountGrowth}");
                    if (MaxBytesGrowth.HasValue) parts.Add($"BytesDelta <= {MaxBytesGrowth}");
                    if (MaxGrowthPercent.HasValue) parts.Add($"Growth <= {MaxGrowthPercent.Value.ToString(CultureInfo.InvariantCulture)} %");
                    if (MaxAllocationRate.HasValue) parts.Add($"AllocationRate <= {MaxAllocationRate.Value.ToString(CultureInfo.InvariantCulture)} bytes/s");
                    break;
                case MemoryRuleKind.Baseline:
                    parts.Add($"{string.Join(", ", Counter.Concat(TypeName))} vs baseline '{Baseline}':");
                    if (MaxDeviationPercent.HasValue) parts.Add($"within {MaxDeviationPercent.Value.ToString(CultureInfo.InvariantCulture)} %");
                    if (MaxStandardDeviations.HasValue) parts.Add($"within {MaxStandardDeviations.Value.ToString(CultureInfo.InvariantCulture)} sd");
                    if (Direction != BaselineDirection.Both) parts.Add($"({Direction.ToString().ToLowerInvariant()} only)");
                    break;
            }
            return string.Join(" ", parts);
        }
    }

    /// <summary>The verdict of one rule on one subject (a counter of a process, a type of a snapshot).</summary>
    public sealed class ThresholdResult
    {
        public string Rule { get; set; } = "";
        public MemoryRuleKind RuleKind { get; set; }
        /// <summary>What was measured: a counter or metric name, or a type name.</summary>
        public string Subject { get; set; } = "";
        public int ProcessId { get; set; }
        public string ProcessName { get; set; } = "";
        /// <summary>The machine of the snapshot, sample or record judged (see HeapSnapshot.Host).</summary>
        public string Host { get; set; } = "";
        public double Observed { get; set; }
        /// <summary>The limit the observed value was held to (for a baseline rule: the bound derived from its history).</summary>
        public double Limit { get; set; }
        /// <summary>bytes, count, percent, seconds... so views can show 612.3 MB while the value stays numeric.</summary>
        public string Unit { get; set; } = "";
        public bool Passed { get; set; }
        public RuleSeverity Severity { get; set; }
        public string Message { get; set; } = "";
        public DateTime Timestamp { get; set; }

        /// <summary>A failure that should fail a check: Error or Critical.</summary>
        public bool IsViolation => !Passed && Severity != RuleSeverity.Warning;

        public override string ToString() => (Passed ? "PASS " : "FAIL ") + Message;
    }
}

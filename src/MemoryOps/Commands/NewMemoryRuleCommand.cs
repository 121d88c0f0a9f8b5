using System;
using System.Management.Automation;
using MemoryOps.Engine;

namespace MemoryOps.Commands
{
    /// <summary>Makes one rule for Test-MemoryThreshold: a counter limit, a heap-type limit, or a limit on drift from a baseline.</summary>
    [Cmdlet(VerbsCommon.New, "MemoryRule", DefaultParameterSetName = CounterSet)]
    [OutputType(typeof(MemoryRule))]
    public sealed class NewMemoryRuleCommand : MemoryOpsCmdlet
    {
        private const string CounterSet = "Counter";
        private const string TypeSet = "Type";
        private const string BaselineSet = "Baseline";

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = CounterSet)]
        [Parameter(ParameterSetName = BaselineSet)]
        [Alias("Metric")]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(CounterNameCompleter))]
        public string[] Counter { get; set; } = Array.Empty<string>();

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = TypeSet)]
        [Parameter(ParameterSetName = BaselineSet)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] TypeName { get; set; } = Array.Empty<string>();

        [Parameter(Mandatory = true, ParameterSetName = BaselineSet)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(BaselineNameCompleter))]
        public string Baseline { get; set; } = "";

        [Parameter(ParameterSetName = CounterSet)]
        [Parameter(ParameterSetName = BaselineSet)]
        public RuleStatistic Statistic { get; set; } = RuleStatistic.Last;

        [Parameter(ParameterSetName = CounterSet)]
        public double Maximum { get; set; }

        [Parameter(ParameterSetName = CounterSet)]
        public double Minimum { get; set; }

        [Parameter(ParameterSetName = CounterSet)]
        [Parameter(ParameterSetName = BaselineSet)]
        [SecondsToTimeSpan]
        [ValidateTimeSpan(0, MemoryRule.MaxForSeconds)]
        public TimeSpan For { get; set; }

        [Parameter(ParameterSetName = TypeSet)]
        [ValidateRange(0, long.MaxValue)]
        public long MaxCount { get; set; }

        [Parameter(ParameterSetName = TypeSet)]
        [ValidateRange(0, long.MaxValue)]
        public long MaxBytes { get; set; }

        [Parameter(ParameterSetName = TypeSet)]
        public long MaxCountGrowth { get; set; }

        [Parameter(ParameterSetName = TypeSet)]
        public long MaxBytesGrowth { get; set; }

        [Parameter(ParameterSetName = TypeSet)]
        public double MaxGrowthPercent { get; set; }

        /// <summary>Bytes per second a matching type may be allocated at, judged on Get-AllocationProfile's profiles (50MB means 50 MB/s).</summary>
        [Parameter(ParameterSetName = TypeSet)]
        [ValidateRange(0.0, double.MaxValue)]
        public double MaxAllocationRate { get; set; }

        [Parameter(ParameterSetName = BaselineSet)]
        [ValidateRange(0.0, double.MaxValue)]
        public double MaxDeviationPercent { get; set; }

        [Parameter(ParameterSetName = BaselineSet)]
        [ValidateRange(0.0, double.MaxValue)]
        public double MaxStandardDeviations { get; set; }

        [Parameter(ParameterSetName = BaselineSet)]
        public BaselineDirection Direction { get; set; } = BaselineDirection.Both;

        [Parameter(ParameterSetName = BaselineSet)]
        [ValidateNotNullOrEmpty]
        public string? Store { get; set; }

        /// <summary>A name for the results; defaults to what the rule checks.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Name { get; set; }

        [Parameter]
        public RuleSeverity Severity { get; set; } = RuleSeverity.Error;

        protected override void EndProcessing()
        {
            var rule = new MemoryRule
            {
                Kind = ParameterSetName switch { TypeSet => MemoryRuleKind.Type, BaselineSet => MemoryRuleKind.Baseline, _ => MemoryRuleKind.Counter },
                Severity = Severity,
                Counter = Counter,
                TypeName = TypeName,
                Statistic = Statistic,
                Maximum = Given(nameof(Maximum)) ? Maximum : (double?)null,
                Minimum = Given(nameof(Minimum)) ? Minimum : (double?)null,
                For = Given(nameof(For)) ? For : (TimeSpan?)null,
                MaxCount = Given(nameof(MaxCount)) ? MaxCount : (long?)null,
                MaxBytes = Given(nameof(MaxBytes)) ? MaxBytes : (long?)null,
                MaxCountGrowth = Given(nameof(MaxCountGrowth)) ? MaxCountGrowth : (long?)null,
                MaxBytesGrowth = Given(nameof(MaxBytesGrowth)) ? MaxBytesGrowth : (long?)null,
                MaxGrowthPercent = Given(nameof(MaxGrowthPercent)) ? MaxGrowthPercent : (double?)null,
                MaxAllocationRate = Given(nameof(MaxAllocationRate)) ? MaxAllocationRate : (double?)null,
                Baseline = Given(nameof(Baseline)) ? Baseline : null,
                Store = Store == null ? null : GetUnresolvedProviderPathFromPSPath(Store),
                MaxDeviationPercent = Given(nameof(MaxDeviationPercent)) ? MaxDeviationPercent : (double?)null,
                MaxStandardDeviations = Given(nameof(MaxStandardDeviations)) ? MaxStandardDeviations : (double?)null,
                Direction = Direction,
            };
            rule.Name = Name ?? rule.DefaultName();
            try { rule.Validate(); }
            catch (MemoryOpsException e)
            {
                ThrowTerminatingError(ToErrorRecord(e, rule, asKind: FailureKind.InvalidRule));
            }
            WriteVerbose($"Rule '{rule.Name}': {rule}");
            WriteObject(rule);
        }

        private bool Given(string parameter) => MyInvocation.BoundParameters.ContainsKey(parameter);
    }
}

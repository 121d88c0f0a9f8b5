using System;
using System.Collections;
using System.IO;
using System.Linq;
using MemoryOps;
using MemoryOps.Engine.Rules;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    public class MemoryPolicyTests
    {
        private static string WriteJson(string text)
        {
            string path = Path.Combine(Path.GetTempPath(), $"memoryops-policy-{Guid.NewGuid():N}.json");
            File.WriteAllText(path, text);
            return path;
        }

        [Fact]
        public void Reads_all_three_kinds_from_JSON_with_units_in_text()
        {
            string path = WriteJson(@"{ ""rules"": [
                { ""name"": ""heap"", ""counter"": ""gc-heap-size"", ""statistic"": ""Max"", ""maximum"": ""512MB"", ""for"": ""30s"", ""severity"": ""Critical"" },
                { ""typeName"": [""*OrderStat"", ""*Report""], ""maxBytesGrowth"": 10485760 },
                { ""name"": ""drift"", ""baseline"": ""nightly"", ""metric"": ""TotalBytes"", ""maxDeviationPercent"": 15, ""maxStandardDeviations"": 3, ""direction"": ""Above"" }
            ] }");
            try
            {
                var rules = MemoryPolicy.ReadJsonFile(path);
                Assert.Equal(3, rules.Count);
                var heap = rules[0];
                Assert.Equal((MemoryRuleKind.Counter, RuleStatistic.Max, 512.0 * 1024 * 1024, TimeSpan.FromSeconds(30), RuleSeverity.Critical),
                             (heap.Kind, heap.Statistic, heap.Maximum!.Value, heap.For!.Value, heap.Severity));
                Assert.Equal(MemoryRuleKind.Type, rules[1].Kind);
                Assert.Equal("*OrderStat,*Report", rules[1].Name);
                Assert.Equal(10485760L, rules[1].MaxBytesGrowth);
                Assert.Equal((MemoryRuleKind.Baseline, "nightly", BaselineDirection.Above), (rules[2].Kind, rules[2].Baseline, rules[2].Direction));
                Assert.Equal(new[] { "TotalBytes" }, rules[2].Counter);
            }
            finally { File.Delete(path); }
        }

        [Theory]
        [InlineData(@"{ ""rules"": [ { ""counter"": ""x"", ""maximum"": ""lots"" } ] }", "rule 1, field 'Maximum'")]
        [InlineData(@"{ ""rules"": [ { ""name"": ""a"", ""counter"": ""x"", ""maximum"": 1 }, { ""name"": ""b"", ""counter"": ""x"", ""maxium"": 1 } ] }", "rule 2 ('b'), field 'maxium' is not a rule field")]
        [InlineData(@"{ ""rules"": [ { ""counter"": ""x"" } ] }", "field 'Maximum'")]
        [InlineData(@"{ ""rules"": [ { ""typeName"": ""x"", ""counter"": ""y"", ""maximum"": 1 } ] }", "not both")]
        [InlineData(@"{ ""rules"": [ { ""counter"": ""x"", ""maximum"": 1, ""statistic"": ""Median"" } ] }", "'Median' is not one of Last, Mean, Max, Min, P95")]
        [InlineData(@"{ ""rules"": [ { ""counter"": ""x"", ""maximum"": 1, ""for"": ""soon"" } ] }", "field 'For'")]
        [InlineData(@"{ ""rules"": [ { ""counter"": ""x"", ""maximum"": 1 }, { ""counter"": ""x"", ""maximum"": 2 } ] }", "two rules named 'x'")]
        [InlineData(@"{ ""rules"": [] }", "has no rules")]
        [InlineData(@"{ ""limits"": [] }", "has no Rules list")]
        [InlineData(@"{ ""rules"": [ { ""counter"": ""x"", ""maximum"": 1 ", "is not valid JSON")]
        public void A_malformed_policy_is_refused_naming_the_file_the_rule_and_the_field(string json, string expected)
        {
            string path = WriteJson(json);
            try
            {
                var e = Assert.Throws<MemoryOpsException>(() => MemoryPolicy.ReadJsonFile(path));
                Assert.Contains(path, e.Message);
                Assert.Contains(expected, e.Message);
            }
            finally { File.Delete(path); }
        }

        [Fact]
        public void Reads_the_hashtables_a_data_file_gives()
        {
            // What SafeGetValue returns for @{ Rules = @( @{ Counter = 'gc-heap-size'; Maximum = 512MB; For = 30 } ) }.
            var data = new Hashtable { ["Rules"] = new object[] { new Hashtable { ["Counter"] = "gc-heap-size", ["Maximum"] = 536870912L, ["For"] = 30 } } };
            var rule = Assert.Single(MemoryPolicy.FromData(data, "p.psd1"));
            Assert.Equal((536870912.0, TimeSpan.FromSeconds(30)), (rule.Maximum!.Value, rule.For!.Value));
        }

        [Theory]
        [InlineData("512MB", 536870912.0)]
        [InlineData("1.5 GB", 1610612736.0)]
        [InlineData("200kb", 204800.0)]
        [InlineData("42", 42.0)]
        public void Byte_sizes_read_like_PowerShell_literals(string text, double expected)
        {
            Assert.True(Quantity.TryParseBytes(text, out var v));
            Assert.Equal(expected, v);
        }
    }
}

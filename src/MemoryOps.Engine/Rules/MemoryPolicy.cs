using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using MemoryOps.Engine.IO;

namespace MemoryOps.Engine.Rules
{
    /// <summary>
    /// Reads rules from policy data: a JSON file, or the hashtables of a PowerShell data file (which the cmdlet
    /// parses safely, without running it, and hands over as plain dictionaries and arrays), always in the shape
    /// { Rules = [ { Name = ..., Counter = ..., Maximum = ... }, ... ] }, so a file says what it is. Field names are
    /// those of New-MemoryRule; the kind follows from the fields (Baseline → baseline rule, Counter → counter rule,
    /// TypeName → type rule). Every error names the file, the rule and the field.
    /// </summary>
    internal static class MemoryPolicy
    {
        private static readonly string[] Fields =
        {
            "Name", "Severity", "Counter", "Metric", "Statistic", "Maximum", "Minimum", "For", "TypeName", "MaxCount", "MaxBytes",
            "MaxCountGrowth", "MaxBytesGrowth", "MaxGrowthPercent", "Baseline", "Store", "MaxDeviationPercent", "MaxStandardDeviations", "Direction",
            "MaxAllocationRate",
        };

        public static List<MemoryRule> ReadJsonFile(string path, InputLimits? limits = null)
        {
            string full = Path.GetFullPath(path);
            limits ??= InputLimits.Policy;
            ReadOnlyMemory<byte> bytes = ReadPolicyBytes(full, limits, path, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (bytes.Length == 0) throw new MemoryOpsException(FailureKind.InvalidData, $"The policy file '{full}' is empty.", path);
            object? data;
            try
            {
                using var doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
                data = FromJson(doc.RootElement);
            }
            catch (JsonException e)
            {
                throw new MemoryOpsException(FailureKind.InvalidData, $"The policy file '{full}' is not valid JSON: {e.Message}", path, e);
            }
            return FromData(data, full);
        }

        /// <summary>
        /// A policy file's bytes: a regular file only (a FIFO would hang the read, /dev/zero never ends), at most
        /// <see cref="InputLimits.MaxBytes"/> of them. Used for .json and .psd1 policies alike.
        /// </summary>
        public static ReadOnlyMemory<byte> ReadPolicyBytes(string full, InputLimits limits, object? target, JsonReaderOptions? json = null)
        {
            using var file = SafeFile.OpenRead(full, "policy file", target);
            return BoundedInput.ReadAll(file, limits, full, "policy file", target, json);
        }

        /// <summary>Rules from parsed policy data (dictionaries, arrays, strings, numbers); <paramref name="file"/> is named in errors.</summary>
        public static List<MemoryRule> FromData(object? data, string file)
        {
            MemoryOpsException Bad(string what) => new MemoryOpsException(FailureKind.InvalidData, $"The policy file '{file}' {what}", file);
            // A bare list at the top is refused: any JSON array of objects with a "name" would pass for a policy, and
            // a file that is not one should be told apart from a policy with mistakes in it.
            if (data is IEnumerable && !(data is string) && !(data is IDictionary))
                throw Bad("is a list at the top level: a policy is a table with a Rules list, { \"rules\": [ { ... } ] } (in a .psd1 file @{ Rules = @( @{ ... } ) }).");
            if (!(data is IDictionary top))
                throw Bad("is not a table with a Rules list: write { \"rules\": [ { \"counter\": \"gc-heap-size\", \"maximum\": \"512MB\" } ] }.");
            var key = top.Keys.Cast<object>().FirstOrDefault(k => string.Equals(k?.ToString(), "Rules", StringComparison.OrdinalIgnoreCase));
            if (key == null) throw Bad("has no Rules list: write @{ Rules = @( @{ Counter = 'gc-heap-size'; Maximum = 512MB } ) }.");
            var unknown = top.Keys.Cast<object>().Select(k => k?.ToString()).Where(k => !string.Equals(k, "Rules", StringComparison.OrdinalIgnoreCase) && !string.Equals(k, "$schema", StringComparison.Ordinal)).ToList();
            if (unknown.Count > 0) throw Bad($"has an unknown top-level field '{unknown[0]}'; only Rules is read.");
            object? rulesData = top[key];
            if (rulesData is IDictionary single) rulesData = new object[] { single };
            if (rulesData is string || !(rulesData is IEnumerable list)) throw Bad("has no list of rules.");
            var rules = new List<MemoryRule>();
            int index = 0;
            foreach (var item in list)
            {
                index++;
                if (!(item is IDictionary fields)) throw Bad($"rule {index} is not a table of fields.");
                rules.Add(RuleFrom(fields, file, index));
            }
            if (rules.Count == 0) throw Bad("has no rules.");
            var duplicate = rules.GroupBy(r => r.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
            if (duplicate != null) throw Bad($"has two rules named '{duplicate.Key}': rule names must be unique so results can be told apart.");
            return rules;
        }

        private static MemoryRule RuleFrom(IDictionary fields, string file, int index)
        {
            string nameForErrors = fields.Keys.Cast<object>().Where(k => string.Equals(k?.ToString(), "Name", StringComparison.OrdinalIgnoreCase))
                                         .Select(k => fields[k]?.ToString()).FirstOrDefault() is string n && n.Length > 0 ? $"rule {index} ('{n}')" : $"rule {index}";
            MemoryOpsException Bad(string field, string what) =>
                new MemoryOpsException(FailureKind.InvalidData,
                    $"The policy file '{file}', {nameForErrors}, field '{field}'" + (what.StartsWith("is ", StringComparison.Ordinal) ? " " : ": ") + what, file);

            var rule = new MemoryRule();
            string? currentField = null;
            var seen = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
            foreach (DictionaryEntry e in fields)
            {
                string key = e.Key?.ToString() ?? "";
                string? known = Fields.FirstOrDefault(f => string.Equals(f, key, StringComparison.OrdinalIgnoreCase));
                if (known == null) throw Bad(key, $"is not a rule field. Known fields: {string.Join(", ", Fields)}.");
                if (known == "Metric") known = "Counter";
                if (seen.ContainsKey(known)) throw Bad(key, "is given twice.");
                seen[known] = e.Value;
            }

            try
            {
                foreach (var (field, value) in seen)
                {
                    currentField = field;
                    switch (field)
                    {
                        case "Name": rule.Name = Text(value); break;
                        case "Severity": rule.Severity = EnumOf<RuleSeverity>(value); break;
                        case "Counter": rule.Counter = Texts(value); break;
                        case "Statistic": rule.Statistic = EnumOf<RuleStatistic>(value); break;
                        case "Maximum": rule.Maximum = Number(value, bytes: true); break;
                        case "Minimum": rule.Minimum = Number(value, bytes: true); break;
                        case "For": rule.For = Duration(value); break;
                        case "TypeName": rule.TypeName = Texts(value); break;
                        case "MaxCount": rule.MaxCount = Whole(value, bytes: false); break;
                        case "MaxBytes": rule.MaxBytes = Whole(value, bytes: true); break;
                        case "MaxCountGrowth": rule.MaxCountGrowth = Whole(value, bytes: false); break;
                        case "MaxBytesGrowth": rule.MaxBytesGrowth = Whole(value, bytes: true); break;
                        case "MaxGrowthPercent": rule.MaxGrowthPercent = Number(value, bytes: false); break;
                        case "Baseline": rule.Baseline = Text(value); break;
                        case "Store": rule.Store = Text(value); break;
                        case "MaxDeviationPercent": rule.MaxDeviationPercent = Number(value, bytes: false); break;
                        case "MaxStandardDeviations": rule.MaxStandardDeviations = Number(value, bytes: false); break;
                        case "Direction": rule.Direction = EnumOf<BaselineDirection>(value); break;
                        case "MaxAllocationRate": rule.MaxAllocationRate = Number(value, bytes: true); break;
                    }
                }
            }
            catch (FieldException fe)
            {
                throw Bad(fe.Field ?? "?", fe.Message);
            }

            rule.Kind = rule.Baseline != null ? MemoryRuleKind.Baseline : rule.Counter.Length > 0 ? MemoryRuleKind.Counter : MemoryRuleKind.Type;
            if (rule.Baseline == null && rule.Counter.Length > 0 && rule.TypeName.Length > 0)
                throw Bad("TypeName", "a rule is either a counter rule (Counter) or a type rule (TypeName), not both; make two rules.");
            if (rule.Baseline == null && rule.Counter.Length == 0 && rule.TypeName.Length == 0)
                throw Bad("Counter", "a rule needs Counter (a counter rule), TypeName (a type rule) or Baseline (a baseline rule).");
            if (string.IsNullOrEmpty(rule.Name)) rule.Name = rule.DefaultName();
            try { rule.Validate(); }
            catch (MemoryOpsException m) when (m.Data[MemoryRule.FieldKey] is string field && m.Data[MemoryRule.ReasonKey] is string reason)
            {
                // Re-say Validate's verdict with the file and the rule's position.
                throw Bad(field, reason);
            }
            return rule;

            // Each converter knows which field it reads through this, so its error names the field.
            string Text(object? v) => v is string s ? s : throw new FieldException(CurrentField(), $"is {Describe(v)}, not text.");
            string[] Texts(object? v)
            {
                if (v is string s) return new[] { s };
                if (v is IEnumerable e && !(v is IDictionary))
                {
                    var items = e.Cast<object?>().ToArray();
                    if (items.Length == 0) throw new FieldException(CurrentField(), "is an empty list: name at least one.");
                    return items.Select((x, i) => x as string ?? throw new FieldException(CurrentField(),
                        $"item {i + 1} is {Describe(x)}, not text: give a name or a flat list of names.")).ToArray();
                }
                throw new FieldException(CurrentField(), $"is {Describe(v)}, not text or a list of text.");
            }
            double Number(object? v, bool bytes)
            {
                double d;
                switch (v)
                {
                    case int i: d = i; break;
                    case long l: d = l; break;
                    case double x: d = x; break;
                    case decimal m: d = (double)m; break;
                    // A string is read only with a unit ("512MB"): "5" in quotes is text where a number belongs,
                    // the mark of a hand-edited or generated file gone wrong, and is refused rather than guessed at.
                    case string s when bytes && HasByteUnit(s) && Quantity.TryParseBytes(s, out var b): d = b; break;
                    case string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _):
                        throw new FieldException(CurrentField(), bytes
                            ? $"'{s}' is text, not a number: write it without quotes ({s.Trim()}), or with a unit ('{s.Trim()}MB')."
                            : $"'{s}' is text, not a number: write it without quotes ({s.Trim()}).");
                    default: throw new FieldException(CurrentField(), bytes ? $"'{v}' is not a number (bytes may be written 512MB)." : $"'{v}' is not a number.");
                }
                if (double.IsNaN(d) || double.IsInfinity(d)) throw new FieldException(CurrentField(), $"'{v}' is not a finite number.");
                return d;
            }
            static bool HasByteUnit(string s) => s.Trim().Length > 2 && char.IsLetter(s.Trim()[^1]);
            long Whole(object? v, bool bytes)
            {
                double d = Number(v, bytes);
                if (d != Math.Floor(d) || d > long.MaxValue || d < long.MinValue) throw new FieldException(CurrentField(), $"'{v}' is not a whole number.");
                return (long)d;
            }
            TimeSpan Duration(object? v)
            {
                switch (v)
                {
                    case int i: return Seconds(i);
                    case long l: return Seconds(l);
                    case double d: return Seconds(d);
                    case decimal m: return Seconds((double)m);
                    case TimeSpan t: return t;
                    case string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _):
                        throw new FieldException(CurrentField(), $"'{s}' is text, not a number: write it without quotes ({s.Trim()}), or with a unit ('{s.Trim()}s').");
                    case string s when Quantity.TryParseDuration(s, out var t2): return t2;
                    default: throw new FieldException(CurrentField(), $"'{v}' is not a duration: give seconds (30), '30s', '5m' or '00:00:30'.");
                }
            }
            T EnumOf<T>(object? v) where T : struct, Enum
            {
                if (v is string s && Enum.TryParse<T>(s, ignoreCase: true, out var e) && Enum.IsDefined(typeof(T), e) && !int.TryParse(s, out _)) return e;
                throw new FieldException(CurrentField(), $"'{v}' is not one of {string.Join(", ", Enum.GetNames(typeof(T)))}.");
            }
            string CurrentField() => currentField ?? "?";
            TimeSpan Seconds(double seconds) =>
                double.IsFinite(seconds) && Math.Abs(seconds) <= MemoryRule.MaxForSeconds
                    ? TimeSpan.FromSeconds(seconds)
                    : throw new FieldException(CurrentField(), $"{seconds.ToString(CultureInfo.InvariantCulture)} seconds is out of range: give at most {MemoryRule.MaxForSeconds / 86400:0} days.");
        }

        /// <summary>What a value is, for an error that says it is the wrong kind: "a list", "a table", "the number 5".</summary>
        private static string Describe(object? v) => v switch
        {
            null => "empty (null)",
            string s => $"the text '{s}'",
            IDictionary => "a table",
            IEnumerable => "a list",
            bool b => b ? "true" : "false",
            _ => $"the number {Convert.ToString(v, CultureInfo.InvariantCulture)}",
        };

        private sealed class FieldException : Exception
        {
            public string? Field { get; }
            public FieldException(string field, string message) : base(message) { Field = field; }
        }

        /// <summary>JSON → the same shapes a .psd1 gives: dictionaries, object arrays, strings, longs or doubles, booleans.</summary>
        private static object? FromJson(JsonElement e)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    var d = new Hashtable(StringComparer.OrdinalIgnoreCase);
                    foreach (var p in e.EnumerateObject())
                    {
                        if (d.ContainsKey(p.Name)) throw new JsonException($"The field '{p.Name}' appears twice in one object.");
                        d[p.Name] = FromJson(p.Value);
                    }
                    return d;
                case JsonValueKind.Array: return e.EnumerateArray().Select(FromJson).ToArray();
                case JsonValueKind.String: return e.GetString();
                // A number too large for a double (1e400) reads as infinity, which the field's check then names; GetDouble would throw a bare FormatException.
                case JsonValueKind.Number: return e.TryGetInt64(out var l) ? l : (object)double.Parse(e.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture);
                case JsonValueKind.True: return true;
                case JsonValueKind.False: return false;
                default: return null;
            }
        }
    }
}

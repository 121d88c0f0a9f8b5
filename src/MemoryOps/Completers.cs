using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using MemoryOps.Engine.Counters;
using MemoryOps.Engine.Processes;

namespace MemoryOps
{
    /// <summary>Completes -ProcessId with the live, diagnosable .NET processes (the tooltip names them).</summary>
    public sealed class DotNetProcessIdCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            foreach (var p in ProcessDiscovery.List())
            {
                string id = p.ProcessId.ToString();
                if (id.StartsWith(wordToComplete ?? "", StringComparison.Ordinal))
                    yield return new CompletionResult(id, Display.Escape($"{id} {p.Name}"), CompletionResultType.ParameterValue, Display.Escape($"{p.Name}: {p.CommandLine}"));
            }
        }
    }

    /// <summary>Completes -Name with the names of the live, diagnosable .NET processes.</summary>
    public sealed class DotNetProcessNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
            return ProcessDiscovery.List()
                .Select(p => p.Name)
                .Distinct(StringComparer.OrdinalIgnoreCase)
                .Where(pattern.IsMatch)
                .OrderBy(n => n, StringComparer.OrdinalIgnoreCase)
                .Select(n => new CompletionResult(AsArgument(n), Display.Escape(n), CompletionResultType.ParameterValue, Display.Escape(n)));
        }

        /// <summary>
        /// What the completion puts on the command line. A name with a control character (another user's process may
        /// call itself anything) must not put that character into the user's line: it becomes a quoted wildcard
        /// pattern with '?' for each such character, which -Name matches.
        /// </summary>
        internal static string AsArgument(string name)
        {
            if (!Display.HasControlCharacters(name)) return name;
            var chars = name.ToCharArray();
            for (int i = 0; i < chars.Length; i++)
                if (Display.HasControlCharacters(chars[i].ToString())) chars[i] = '?';
            return "'" + new string(chars).Replace("'", "''") + "'";
        }
    }

    /// <summary>Completes -Counter with the counters System.Runtime publishes (EventCounters and Meter), and for rules also Get-ProcessMemory's sample names.</summary>
    public sealed class CounterNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
            return KnownCounters.SystemRuntimeEventCounters.Concat(KnownCounters.SystemRuntimeMeterInstruments)
                .Concat(commandName == "Get-GcCounter" ? Enumerable.Empty<string>() : ProcessMemoryInfo.Names.Select(n => n.Name)) // Get-ProcessMemory's samples, for rules
                .Where(pattern.IsMatch)
                .OrderBy(n => n, StringComparer.Ordinal)
                .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n));
        }
    }

    /// <summary>Completes -Name (and a rule's -Baseline) with the baselines in the store given by -Store, or the default store.</summary>
    public sealed class BaselineNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
            List<string> names;
            try
            {
                string? store = fakeBoundParameters != null && fakeBoundParameters.Contains("Store") ? fakeBoundParameters["Store"]?.ToString() : null;
                store ??= MemoryOps.Engine.Baselines.BaselineStore.PathFromEnvironment();
                // Relative to PowerShell's current location, as the cmdlets resolve it (completion runs on the session's thread).
                if (store != null && !System.IO.Path.IsPathRooted(store))
                {
                    // Relative to the session's current location, as the cmdlets resolve it: asked through a nested
                    // pipeline (the session state itself is busy running the completion).
                    try
                    {
                        using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
                        ps.AddScript("param($p) $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($p)").AddArgument(store);
                        store = ps.Invoke().FirstOrDefault()?.BaseObject as string ?? store;
                    }
                    catch (Exception) { } // no session to ask: the path as given
                }
                names = new MemoryOps.Engine.Baselines.BaselineStore(store).List();
            }
            catch (Exception) { return Array.Empty<CompletionResult>(); } // completion never throws at the user
            return names.Where(pattern.IsMatch).Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n));
        }
    }
}

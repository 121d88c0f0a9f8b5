using System;
using System.Collections.Generic;
using System.IO.Enumeration;
using System.Linq;

namespace MemoryOps.Engine.Rules
{
    /// <summary>
    /// Case-insensitive * and ? matching for rule patterns evaluated in the engine (which has no PowerShell).
    /// The BCL's FileSystemName matcher does exactly this; PowerShell's [a-z] ranges are not supported in rules.
    /// </summary>
    internal static class Wildcard
    {
        public static bool IsMatch(string pattern, string value) =>
            FileSystemName.MatchesSimpleExpression(pattern.AsSpan(), value.AsSpan(), ignoreCase: true);

        public static bool AnyMatch(IEnumerable<string> patterns, string value) => patterns.Any(p => IsMatch(p, value));

        public static bool HasWildcards(string pattern) => pattern.IndexOfAny(new[] { '*', '?' }) >= 0;
    }
}

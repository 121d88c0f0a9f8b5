using System;
using System.Collections.Generic;
using System.Text;

namespace MemoryOps.Engine.Heap
{
    /// <summary>
    /// One spelling for a type name whatever the source, so a snapshot from a dump compares with one
    /// from a live process. The canonical form is the one SOS and ClrMD print, since that is what users
    /// see in dotnet-dump: <c>System.Collections.Generic.Dictionary&lt;System.String, OrderService.OrderStat&gt;+Entry[]</c>.
    /// Accepted inputs:
    /// <list type="bullet">
    /// <item>C#-like (ClrMD): <c>Outer&lt;A, B&gt;+Inner[]</c>, <c>System.String[,]</c>;</item>
    /// <item>reflection-like (EventPipe's BulkType, Type.FullName): <c>Outer`2+Inner[A,B][]</c>, where the arities say
    /// which segment owns which argument, and assembly-qualified arguments <c>[[A, mscorlib],[B, mscorlib]]</c>;</item>
    /// <item>a nested name whose outer type the source left out (<c>Entry[A,B][]</c>): the arguments stay on it.</item>
    /// </list>
    /// Written by hand because no library parses both spellings into one (System.Reflection.Metadata's
    /// TypeName parser reads only the reflection form and needs a runtime-shaped input).
    /// </summary>
    internal static class TypeNameCanonicalizer
    {
        public static string Canonicalize(string name)
        {
            if (string.IsNullOrWhiteSpace(name)) return name ?? "";
            try
            {
                var parser = new Parser(name.Trim());
                var node = parser.ParseType();
                if (!parser.AtEnd) return name.Trim(); // something we do not understand: keep it verbatim rather than mangle it
                var sb = new StringBuilder(name.Length + 8);
                node.Write(sb);
                return sb.ToString();
            }
            catch (FormatException)
            {
                return name.Trim();
            }
        }

        private sealed class Segment
        {
            public string Name = "";
            public int Arity = -1;               // from a backtick; -1 when the source did not say
            public List<TypeNode> Args = new List<TypeNode>();
        }

        private sealed class TypeNode
        {
            public List<Segment> Segments = new List<Segment>();
            public List<int> ArrayRanks = new List<int>(); // 1 for [], 2 for [,], 0 for SZ-array-of-rank-1 [*]
            public string Suffix = "";                     // pointer/by-ref markers kept as they are

            public void Write(StringBuilder sb)
            {
                for (int i = 0; i < Segments.Count; i++)
                {
                    if (i > 0) sb.Append('+');
                    var s = Segments[i];
                    sb.Append(s.Name);
                    if (s.Args.Count > 0)
                    {
                        sb.Append('<');
                        for (int a = 0; a < s.Args.Count; a++)
                        {
                            if (a > 0) sb.Append(", ");
                            s.Args[a].Write(sb);
                        }
                        sb.Append('>');
                    }
                }
                sb.Append(Suffix);
                foreach (var rank in ArrayRanks)
                {
                    sb.Append('[');
                    if (rank > 1) sb.Append(',', rank - 1);
                    sb.Append(']');
                }
            }
        }

        private sealed class Parser
        {
            private readonly string s;
            private int pos;

            public Parser(string s) { this.s = s; }

            public bool AtEnd => pos >= s.Length;

            private char Peek => pos < s.Length ? s[pos] : '\0';

            private void SkipSpaces()
            {
                while (pos < s.Length && s[pos] == ' ') pos++;
            }

            public TypeNode ParseType()
            {
                SkipSpaces();
                var node = new TypeNode();
                var pendingArgs = new List<TypeNode>();
                while (true)
                {
                    var seg = new Segment { Name = ReadIdentifier() };
                    if (Peek == '`')
                    {
                        pos++;
                        int start = pos;
                        while (char.IsDigit(Peek)) pos++;
                        if (!int.TryParse(s.Substring(start, pos - start), out seg.Arity)) throw new FormatException($"Bad arity in '{s}'.");
                    }
                    if (Peek == '<') seg.Args.AddRange(ReadArgList('<', '>'));
                    node.Segments.Add(seg);
                    if (Peek == '+') { pos++; continue; }
                    break;
                }

                // Reflection-style argument list: one bracket group that is not an array rank.
                if (Peek == '[' && !IsArrayRankAt(pos)) pendingArgs.AddRange(ReadArgList('[', ']'));
                if (pendingArgs.Count > 0) Distribute(node, pendingArgs);

                while (Peek == '*' || Peek == '&') { node.Suffix += Peek; pos++; }
                while (Peek == '[' && IsArrayRankAt(pos))
                {
                    pos++;
                    int rank = 1;
                    while (Peek == ',') { rank++; pos++; }
                    if (Peek == '*') pos++; // [*]: a rank-1 array that is not zero-based; printed as []
                    Expect(']');
                    node.ArrayRanks.Add(rank);
                }
                return node;
            }

            private static void Distribute(TypeNode node, List<TypeNode> args)
            {
                bool arityKnown = node.Segments.Exists(x => x.Arity > 0);
                if (!arityKnown)
                {
                    node.Segments[node.Segments.Count - 1].Args.AddRange(args);
                    return;
                }
                int next = 0;
                foreach (var seg in node.Segments)
                {
                    int take = Math.Max(0, seg.Arity);
                    for (int i = 0; i < take && next < args.Count; i++) seg.Args.Add(args[next++]);
                }
                // More arguments than arities account for: they belong to the innermost type.
                while (next < args.Count) node.Segments[node.Segments.Count - 1].Args.Add(args[next++]);
            }

            private bool IsArrayRankAt(int at)
            {
                int i = at + 1;
                while (i < s.Length && (s[i] == ',' || s[i] == ' ')) i++;
                if (i < s.Length && s[i] == '*') i++;
                return i < s.Length && s[i] == ']';
            }

            private List<TypeNode> ReadArgList(char open, char close)
            {
                Expect(open);
                var args = new List<TypeNode>();
                while (true)
                {
                    SkipSpaces();
                    TypeNode arg;
                    if (open == '[' && Peek == '[')
                    {
                        // Assembly-qualified: [Name, Assembly, Version=...]
                        pos++;
                        arg = ParseType();
                        SkipAssemblyQualification();
                        Expect(']');
                    }
                    else
                    {
                        arg = ParseType();
                    }
                    args.Add(arg);
                    SkipSpaces();
                    if (Peek == ',') { pos++; continue; }
                    Expect(close);
                    return args;
                }
            }

            private void SkipAssemblyQualification()
            {
                int depth = 0;
                while (pos < s.Length)
                {
                    char c = s[pos];
                    if (c == '[') depth++;
                    else if (c == ']') { if (depth == 0) return; depth--; }
                    pos++;
                }
            }

            private string ReadIdentifier()
            {
                int start = pos;
                // A compiler-generated name starts with its own angle brackets: <>c, <Module>, <Main>d__0.
                if (Peek == '<')
                {
                    // Balanced: top-level programs nest them (<<Main>$>d__0).
                    int depth = 0;
                    do
                    {
                        if (pos >= s.Length) throw new FormatException($"Unclosed '<' at {start} in '{s}'.");
                        if (s[pos] == '<') depth++;
                        else if (s[pos] == '>') depth--;
                        pos++;
                    } while (depth > 0);
                }
                while (pos < s.Length)
                {
                    char c = s[pos];
                    if (c == '<' || c == '>' || c == '[' || c == ']' || c == ',' || c == '+' || c == '`' || c == '*' || c == '&') break;
                    if (c == ' ') break;
                    pos++;
                }
                if (pos == start) throw new FormatException($"Expected a type name at {start} in '{s}'.");
                return s.Substring(start, pos - start);
            }

            private void Expect(char c)
            {
                SkipSpaces();
                if (Peek != c) throw new FormatException($"Expected '{c}' at {pos} in '{s}'.");
                pos++;
            }
        }
    }
}

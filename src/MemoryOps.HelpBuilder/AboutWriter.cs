using System;
using System.Linq;
using System.Text;
using Markdig;
using Markdig.Syntax;

namespace MemoryOps.HelpBuilder
{
    /// <summary>Turns an about_*.help.md page into the plain-text about topic Get-Help shows (headings upper-case, body indented).</summary>
    public static class AboutWriter
    {
        private const int Width = 80;

        public static string Write(string markdown)
        {
            var document = Markdown.Parse(markdown, new MarkdownPipelineBuilder().UseYamlFrontMatter().Build());
            var sb = new StringBuilder();
            foreach (var block in document)
            {
                string source = markdown.Substring(block.Span.Start, block.Span.Length);
                switch (block)
                {
                    case HeadingBlock h when h.Level == 1:
                        sb.Append("TOPIC\n    ").Append(Markdown.ToPlainText(source.TrimStart('#', ' ')).Trim()).Append("\n\n");
                        break;
                    case HeadingBlock h:
                        sb.Append(Markdown.ToPlainText(source.TrimStart('#', ' ')).Trim().ToUpperInvariant()).Append('\n');
                        break;
                    case FencedCodeBlock code:
                        foreach (var line in code.Lines.Lines.Take(code.Lines.Count)) sb.Append("        ").Append(line.ToString().TrimEnd()).Append('\n');
                        sb.Append('\n');
                        break;
                    case ListBlock list:
                        foreach (var item in list.OfType<ListItemBlock>())
                        {
                            string text = Markdown.ToPlainText(markdown.Substring(item.Span.Start, item.Span.Length)).Trim();
                            text = text.TrimStart('-', '*', '+', ' ');
                            Wrap(sb, "    - ", "      ", text);
                        }
                        sb.Append('\n');
                        break;
                    case Markdig.Extensions.Yaml.YamlFrontMatterBlock:
                        break;
                    default:
                        Wrap(sb, "    ", "    ", Markdown.ToPlainText(source).Trim());
                        sb.Append('\n');
                        break;
                }
            }
            return sb.ToString().TrimEnd() + "\n";
        }

        private static void Wrap(StringBuilder sb, string first, string rest, string text)
        {
            string prefix = first;
            var line = new StringBuilder();
            foreach (var word in text.Split(new[] { ' ', '\n', '\r' }, StringSplitOptions.RemoveEmptyEntries))
            {
                if (line.Length > 0 && prefix.Length + line.Length + 1 + word.Length > Width)
                {
                    sb.Append(prefix).Append(line).Append('\n');
                    line.Clear();
                    prefix = rest;
                }
                if (line.Length > 0) line.Append(' ');
                line.Append(word);
            }
            if (line.Length > 0) sb.Append(prefix).Append(line).Append('\n');
        }
    }
}

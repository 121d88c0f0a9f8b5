using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Markdig;
using Markdig.Syntax;

namespace MemoryOps.HelpBuilder
{
    /// <summary>Reads a PlatyPS-schema page with Markdig (a CommonMark parser) into a <see cref="CommandDoc"/>.</summary>
    public static class MarkdownHelpReader
    {
        private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseYamlFrontMatter().Build();

        public static CommandDoc Read(string markdown, string sourceName)
        {
            var document = Markdown.Parse(markdown, Pipeline);
            var doc = new CommandDoc();
            string section = "";
            ExampleDoc? example = null;
            ParameterDoc? parameter = null;
            TypeDoc? type = null;
            SyntaxDoc? syntax = null;

            foreach (var block in document)
            {
                switch (block)
                {
                    case HeadingBlock h when h.Level == 1:
                        doc.Name = Text(markdown, h);
                        break;
                    case HeadingBlock h when h.Level == 2:
                        section = Text(markdown, h).ToUpperInvariant();
                        example = null; parameter = null; type = null; syntax = null;
                        break;
                    case HeadingBlock h when h.Level == 3:
                    {
                        string title = Text(markdown, h);
                        switch (section)
                        {
                            case "SYNTAX":
                                bool isDefault = title.EndsWith("(Default)", StringComparison.OrdinalIgnoreCase);
                                syntax = new SyntaxDoc { SetName = isDefault ? title.Substring(0, title.Length - 9).Trim() : title, IsDefault = isDefault };
                                doc.Syntax.Add(syntax);
                                break;
                            case "EXAMPLES":
                                example = new ExampleDoc { Title = title };
                                doc.Examples.Add(example);
                                break;
                            case "PARAMETERS":
                                parameter = title == "CommonParameters" ? null : new ParameterDoc { Name = title.TrimStart('-') };
                                if (parameter != null) doc.Parameters.Add(parameter);
                                break;
                            case "INPUTS":
                                type = new TypeDoc { TypeName = title };
                                doc.Inputs.Add(type);
                                break;
                            case "OUTPUTS":
                                type = new TypeDoc { TypeName = title };
                                doc.Outputs.Add(type);
                                break;
                        }
                        break;
                    }
                    case FencedCodeBlock code:
                    {
                        string info = (code.Info ?? "").Trim().ToLowerInvariant();
                        string content = CodeText(code);
                        if (section == "SYNTAX" && syntax != null) syntax.Line = string.Join(" ", content.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));
                        else if (section == "PARAMETERS" && parameter != null && info == "yaml") parameter.Metadata.Add(ParseYaml(content, sourceName, parameter.Name));
                        else if (section == "EXAMPLES" && example != null)
                        {
                            if (example.Code.Count == 0 || info == "powershell") example.Code.Add(content);
                            else example.Remarks.Add(content); // an output block: keep it with the remarks, verbatim
                        }
                        break;
                    }
                    case ParagraphBlock or ListBlock or QuoteBlock:
                    {
                        string text = PlainText(markdown, block);
                        if (text.Length == 0) break;
                        switch (section)
                        {
                            case "SYNOPSIS": doc.Synopsis = doc.Synopsis.Length == 0 ? text : doc.Synopsis + " " + text; break;
                            case "DESCRIPTION": doc.Description.Add(text); break;
                            case "EXAMPLES": example?.Remarks.Add(text); break;
                            case "PARAMETERS": parameter?.Description.Add(text); break;
                            case "INPUTS": case "OUTPUTS": type?.Description.Add(text); break;
                            case "NOTES": doc.Notes.Add(text); break;
                            case "RELATED LINKS":
                                foreach (var line in text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0)) doc.Links.Add(line);
                                break;
                        }
                        break;
                    }
                }
            }
            if (doc.Name.Length == 0) throw new InvalidDataException($"{sourceName}: no '# Cmdlet-Name' heading.");
            return doc;
        }

        private static string Text(string source, HeadingBlock h) => Markdown.ToPlainText(source.Substring(h.Span.Start, h.Span.Length).TrimStart('#', ' '), Pipeline).Trim();

        private static string PlainText(string source, Block block) =>
            Markdown.ToPlainText(source.Substring(block.Span.Start, block.Span.Length), Pipeline).Trim().Replace("\r", "");

        private static string CodeText(FencedCodeBlock code) =>
            string.Join("\n", code.Lines.Lines.Take(code.Lines.Count).Select(l => l.ToString())).TrimEnd();

        /// <summary>PlatyPS's yaml blocks are flat "Key: value" lines; a full YAML library would add nothing here.</summary>
        public static Dictionary<string, string> ParseYaml(string yaml, string sourceName, string parameter)
        {
            var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var raw in yaml.Split('\n'))
            {
                string line = raw.Trim();
                if (line.Length == 0) continue;
                int colon = line.IndexOf(':');
                if (colon <= 0) throw new InvalidDataException($"{sourceName}: parameter -{parameter}: '{line}' is not 'Key: value'.");
                result[line.Substring(0, colon).Trim()] = line.Substring(colon + 1).Trim();
            }
            return result;
        }
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Xml.Linq;

namespace MemoryOps.HelpBuilder
{
    /// <summary>Writes the MAML (command help XML) that Get-Help reads from &lt;module&gt;/en-US/&lt;dll&gt;-Help.xml.</summary>
    public static class MamlWriter
    {
        private static readonly XNamespace Msh = "http://msh";
        private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
        private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
        private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

        public static XDocument Write(IEnumerable<CommandDoc> commands)
        {
            var root = new XElement(Msh + "helpItems", new XAttribute("schema", "maml"),
                new XAttribute(XNamespace.Xmlns + "maml", Maml), new XAttribute(XNamespace.Xmlns + "command", Command), new XAttribute(XNamespace.Xmlns + "dev", Dev));
            foreach (var c in commands.OrderBy(c => c.Name, StringComparer.Ordinal)) root.Add(WriteCommand(c));
            return new XDocument(new XDeclaration("1.0", "utf-8", null), root);
        }

        private static XElement Paras(IEnumerable<string> paragraphs) =>
            new XElement(Maml + "description", paragraphs.Select(p => new XElement(Maml + "para", p)));

        private static XElement WriteCommand(CommandDoc c)
        {
            int dash = c.Name.IndexOf('-');
            var command = new XElement(Command + "command",
                new XElement(Command + "details",
                    new XElement(Command + "name", c.Name),
                    new XElement(Command + "verb", dash > 0 ? c.Name.Substring(0, dash) : c.Name),
                    new XElement(Command + "noun", dash > 0 ? c.Name.Substring(dash + 1) : ""),
                    Paras(new[] { c.Synopsis })),
                Paras(c.Description));

            var syntax = new XElement(Command + "syntax");
            foreach (var set in c.Syntax)
            {
                var item = new XElement(Command + "syntaxItem", new XElement(Maml + "name", c.Name));
                // As Get-Command shows a syntax: positional parameters in position order first, then the named ones.
                var inSet = c.Parameters.Select(p => (Doc: p, Meta: MetadataFor(p, set.SetName))).Where(x => x.Meta != null)
                    .OrderBy(x => int.TryParse(x.Meta!.TryGetValue("Position", out var pos) ? pos : "", out int n) ? n : int.MaxValue)
                    .ThenBy(x => x.Doc.Name, StringComparer.Ordinal);
                foreach (var (doc, meta) in inSet) item.Add(WriteParameter(doc, meta!));
                syntax.Add(item);
            }
            command.Add(syntax);

            var parameters = new XElement(Command + "parameters");
            foreach (var p in c.Parameters) parameters.Add(WriteParameter(p, p.Metadata.FirstOrDefault() ?? new Dictionary<string, string>()));
            command.Add(parameters);

            command.Add(new XElement(Command + "inputTypes", c.Inputs.Select(t => new XElement(Command + "inputType",
                new XElement(Dev + "type", new XElement(Maml + "name", t.TypeName)), Paras(t.Description)))));
            command.Add(new XElement(Command + "returnValues", c.Outputs.Select(t => new XElement(Command + "returnValue",
                new XElement(Dev + "type", new XElement(Maml + "name", t.TypeName)), Paras(t.Description)))));
            command.Add(new XElement(Maml + "alertSet", new XElement(Maml + "alert", c.Notes.Select(n => new XElement(Maml + "para", n)))));
            command.Add(new XElement(Command + "examples", c.Examples.Select(e => new XElement(Command + "example",
                new XElement(Maml + "title", $"-------------------------- {e.Title} --------------------------"),
                new XElement(Dev + "code", string.Join("\n", e.Code)),
                new XElement(Dev + "remarks", e.Remarks.Select(r => new XElement(Maml + "para", r)))))));
            command.Add(new XElement(Command + "relatedLinks", c.Links.Select(l => new XElement(Maml + "navigationLink",
                new XElement(Maml + "linkText", l), new XElement(Maml + "uri")))));
            return command;
        }

        /// <summary>The yaml block that covers a parameter set, or null when the parameter is not in it.</summary>
        public static Dictionary<string, string>? MetadataFor(ParameterDoc p, string setName)
        {
            foreach (var meta in p.Metadata)
            {
                string sets = meta.TryGetValue("Parameter Sets", out var s) ? s : "(All)";
                if (sets == "(All)" || sets.Split(',').Select(x => x.Trim()).Contains(setName, StringComparer.OrdinalIgnoreCase)) return meta;
            }
            return null;
        }

        private static XElement WriteParameter(ParameterDoc p, Dictionary<string, string> meta)
        {
            string Get(string key, string fallback) => meta.TryGetValue(key, out var v) && v.Length > 0 ? v : fallback;
            string type = Get("Type", "Object");
            string position = Get("Position", "Named");
            var element = new XElement(Command + "parameter",
                new XAttribute("required", Get("Required", "False").ToLowerInvariant()),
                new XAttribute("variableLength", type.EndsWith("[]", StringComparison.Ordinal) ? "true" : "false"),
                new XAttribute("globbing", Get("Accept wildcard characters", "False").ToLowerInvariant()),
                new XAttribute("pipelineInput", Get("Accept pipeline input", "False")),
                new XAttribute("position", position.Equals("Named", StringComparison.OrdinalIgnoreCase) ? "named" : position),
                new XAttribute("aliases", Get("Aliases", "none")),
                new XElement(Maml + "name", p.Name),
                Paras(p.Description));
            if (!type.Equals("SwitchParameter", StringComparison.OrdinalIgnoreCase))
                element.Add(new XElement(Command + "parameterValue", new XAttribute("required", "true"), new XAttribute("variableLength", "false"), type));
            element.Add(new XElement(Dev + "type", new XElement(Maml + "name", type), new XElement(Maml + "uri")));
            element.Add(new XElement(Dev + "defaultValue", Get("Default value", "None")));
            return element;
        }
    }
}

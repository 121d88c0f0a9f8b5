using System.Linq;
using System.Xml.Linq;
using MemoryOps.HelpBuilder;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    public class HelpBuilderTests
    {
        private const string Page = @"---
external help file: MemoryOps.dll-Help.xml
Module Name: MemoryOps
online version:
schema: 2.0.0
---

# Get-Thing

## SYNOPSIS
Gets **things**.

## SYNTAX

### ById (Default)
```
Get-Thing [-Id] <Int32[]> [-Force] [<CommonParameters>]
```

### ByName
```
Get-Thing -Name <String> [<CommonParameters>]
```

## DESCRIPTION
First paragraph.

Second paragraph with `code`.

## EXAMPLES

### Example 1: One thing
```powershell
Get-Thing -Id 1
```

```
Id Name
-- ----
 1 one
```

It gets one thing.

## PARAMETERS

### -Force
Does it anyway.

```yaml
Type: SwitchParameter
Parameter Sets: ById
Aliases:

Required: False
Position: Named
Default value: None
Accept pipeline input: False
Accept wildcard characters: False
```

### -Id
The ids.

```yaml
Type: Int32[]
Parameter Sets: ById
Aliases: ProcessId, PID

Required: True
Position: 0
Default value: None
Accept pipeline input: True (ByPropertyName)
Accept wildcard characters: False
```

### -Name
The name.

```yaml
Type: String
Parameter Sets: ByName
Aliases:

Required: True
Position: Named
Default value: None
Accept pipeline input: False
Accept wildcard characters: True
```

### CommonParameters
This cmdlet supports the common parameters.

## INPUTS

### System.Int32
An id.

## OUTPUTS

### MemoryOps.Thing

## NOTES
Careful.

## RELATED LINKS

Get-Other

about_MemoryOps
";

        [Fact]
        public void Reads_every_section_of_a_PlatyPS_page()
        {
            var doc = MarkdownHelpReader.Read(Page, "Get-Thing.md");
            Assert.Equal("Get-Thing", doc.Name);
            Assert.Equal("Gets things.", doc.Synopsis);
            Assert.Equal(new[] { "First paragraph.", "Second paragraph with code." }, doc.Description);
            Assert.Equal(2, doc.Syntax.Count);
            Assert.True(doc.Syntax[0].IsDefault);
            Assert.Equal("ById", doc.Syntax[0].SetName);
            Assert.Equal("Get-Thing -Name <String> [<CommonParameters>]", doc.Syntax[1].Line);
            var example = Assert.Single(doc.Examples);
            Assert.Equal("Example 1: One thing", example.Title);
            Assert.Equal("Get-Thing -Id 1", Assert.Single(example.Code));
            Assert.Contains("It gets one thing.", example.Remarks);
            Assert.Contains(example.Remarks, r => r.Contains(" 1 one"));
            Assert.Equal(new[] { "Force", "Id", "Name" }, doc.Parameters.Select(p => p.Name));
            Assert.Equal("ProcessId, PID", doc.Parameters[1].Metadata[0]["Aliases"]);
            Assert.Equal("True (ByPropertyName)", doc.Parameters[1].Metadata[0]["Accept pipeline input"]);
            Assert.Equal("System.Int32", Assert.Single(doc.Inputs).TypeName);
            Assert.Equal("MemoryOps.Thing", Assert.Single(doc.Outputs).TypeName);
            Assert.Equal("Careful.", Assert.Single(doc.Notes));
            Assert.Equal(new[] { "Get-Other", "about_MemoryOps" }, doc.Links);
        }

        [Fact]
        public void Writes_MAML_that_puts_each_parameter_in_its_sets()
        {
            var maml = MamlWriter.Write(new[] { MarkdownHelpReader.Read(Page, "Get-Thing.md") });
            XNamespace command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
            XNamespace maml2 = "http://schemas.microsoft.com/maml/2004/10";
            var cmd = Assert.Single(maml.Root!.Elements(command + "command"));
            Assert.Equal("Get-Thing", cmd.Element(command + "details")!.Element(command + "name")!.Value);
            Assert.Equal("Thing", cmd.Element(command + "details")!.Element(command + "noun")!.Value);
            var items = cmd.Element(command + "syntax")!.Elements(command + "syntaxItem").ToList();
            Assert.Equal(new[] { "Id", "Force" }.OrderBy(x => x), items[0].Elements(command + "parameter").Select(p => p.Element(maml2 + "name")!.Value).OrderBy(x => x));
            Assert.Equal(new[] { "Name" }, items[1].Elements(command + "parameter").Select(p => p.Element(maml2 + "name")!.Value));
            var id = cmd.Element(command + "parameters")!.Elements(command + "parameter").Single(p => p.Element(maml2 + "name")!.Value == "Id");
            Assert.Equal("true", id.Attribute("required")!.Value);
            Assert.Equal("0", id.Attribute("position")!.Value);
            Assert.Equal("ProcessId, PID", id.Attribute("aliases")!.Value);
            var force = cmd.Element(command + "parameters")!.Elements(command + "parameter").Single(p => p.Element(maml2 + "name")!.Value == "Force");
            Assert.Null(force.Element(command + "parameterValue")); // switches take no value
        }

        [Fact]
        public void Writes_an_about_topic_as_indented_text()
        {
            string text = AboutWriter.Write("# about_Thing\n\n## SHORT DESCRIPTION\nShort **words**.\n\n## LONG DESCRIPTION\n- one\n- two\n\n```powershell\nGet-Thing\n```\n");
            Assert.StartsWith("TOPIC\n    about_Thing\n\nSHORT DESCRIPTION\n    Short words.\n", text);
            Assert.Contains("    - one\n    - two\n", text);
            Assert.Contains("        Get-Thing\n", text);
        }

        [Fact]
        public void A_malformed_yaml_line_names_the_page_and_parameter()
        {
            var e = Assert.Throws<System.IO.InvalidDataException>(() => MarkdownHelpReader.ParseYaml("Type String", "X.md", "Id"));
            Assert.Contains("X.md", e.Message);
            Assert.Contains("-Id", e.Message);
        }
    }
}

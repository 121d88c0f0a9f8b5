using MemoryOps.Engine.Heap;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    public class TypeNameCanonicalizerTests
    {
        [Theory]
        // Plain, arrays, multi-dimensional, jagged
        [InlineData("System.String", "System.String")]
        [InlineData("System.Int64[]", "System.Int64[]")]
        [InlineData("System.String[,]", "System.String[,]")]
        [InlineData("System.Int32[,,][]", "System.Int32[,,][]")]
        [InlineData("System.Int32[][]", "System.Int32[][]")]
        // EventPipe BulkType spellings (seen on .NET 10)
        [InlineData("System.Collections.Generic.Dictionary`2[System.String,OrderService.OrderStat]", "System.Collections.Generic.Dictionary<System.String, OrderService.OrderStat>")]
        [InlineData("System.Collections.Generic.Dictionary`2[System.String,System.Collections.Generic.List`1[System.Diagnostics.Metrics.Instrument]]",
                    "System.Collections.Generic.Dictionary<System.String, System.Collections.Generic.List<System.Diagnostics.Metrics.Instrument>>")]
        [InlineData("System.Collections.Generic.Dictionary`2[System.Guid,System.Diagnostics.Tracing.EventSource+OverrideEventProvider]",
                    "System.Collections.Generic.Dictionary<System.Guid, System.Diagnostics.Tracing.EventSource+OverrideEventProvider>")]
        [InlineData("Entry[System.String,OrderService.OrderStat][]", "Entry<System.String, OrderService.OrderStat>[]")]
        // Reflection full names: arities place the arguments on the right segments
        [InlineData("System.Collections.Generic.Dictionary`2+Entry[System.String,OrderService.OrderStat][]",
                    "System.Collections.Generic.Dictionary<System.String, OrderService.OrderStat>+Entry[]")]
        [InlineData("Outer`1+Inner`1[A,B]", "Outer<A>+Inner<B>")]
        [InlineData("System.Collections.Generic.List`1[[System.String, System.Private.CoreLib, Version=10.0.0.0, Culture=neutral, PublicKeyToken=7cec85d7bea7798e]]",
                    "System.Collections.Generic.List<System.String>")]
        // ClrMD / SOS spellings are already canonical and stay as they are
        [InlineData("System.Collections.Generic.Dictionary<System.String, OrderService.OrderStat>+Entry[]", "System.Collections.Generic.Dictionary<System.String, OrderService.OrderStat>+Entry[]")]
        [InlineData("System.Collections.Generic.Dictionary<System.String,OrderService.OrderStat>+Entry[]", "System.Collections.Generic.Dictionary<System.String, OrderService.OrderStat>+Entry[]")]
        [InlineData("System.Collections.Generic.List<System.Int32[]>[]", "System.Collections.Generic.List<System.Int32[]>[]")]
        [InlineData("System.Func<System.Int32, System.Collections.Generic.KeyValuePair<System.String, System.Int32[,]>>",
                    "System.Func<System.Int32, System.Collections.Generic.KeyValuePair<System.String, System.Int32[,]>>")]
        [InlineData("Free", "Free")]
        [InlineData("<Module>", "<Module>")]
        [InlineData("System.Buffers.SharedArrayPool`1+<>c[System.Char]", "System.Buffers.SharedArrayPool<System.Char>+<>c")]
        [InlineData("System.Buffers.SharedArrayPool<System.Char>+<>c", "System.Buffers.SharedArrayPool<System.Char>+<>c")]
        [InlineData("Program+<Main>d__0", "Program+<Main>d__0")]
        [InlineData("System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1+AsyncStateMachineBox`1[System.Int32,Program+<<Main>$>d__0]",
                    "System.Runtime.CompilerServices.AsyncTaskMethodBuilder<System.Int32>+AsyncStateMachineBox<Program+<<Main>$>d__0>")]
        [InlineData("System.Runtime.CompilerServices.AsyncTaskMethodBuilder<System.Int32>+AsyncStateMachineBox<Program+<<Main>$>d__0>",
                    "System.Runtime.CompilerServices.AsyncTaskMethodBuilder<System.Int32>+AsyncStateMachineBox<Program+<<Main>$>d__0>")]
        [InlineData("Foo`99999999999", "Foo`99999999999")]
        public void Canonical_form(string input, string expected)
        {
            Assert.Equal(expected, TypeNameCanonicalizer.Canonicalize(input));
        }

        [Fact]
        public void Both_sources_of_the_leak_type_agree()
        {
            string fromDump = "System.Collections.Generic.Dictionary<System.String, OrderService.OrderStat>+Entry[]";
            string fromReflection = "System.Collections.Generic.Dictionary`2+Entry[System.String,OrderService.OrderStat][]";
            Assert.Equal(TypeNameCanonicalizer.Canonicalize(fromDump), TypeNameCanonicalizer.Canonicalize(fromReflection));
        }

        [Theory]
        [InlineData("Weird<Name")]
        [InlineData("")]
        public void Unparseable_names_are_kept_verbatim(string input)
        {
            Assert.Equal(input, TypeNameCanonicalizer.Canonicalize(input));
        }

        [Fact]
        public void Compiler_generated_names_survive()
        {
            Assert.Equal("Program+<>c__DisplayClass0_0", TypeNameCanonicalizer.Canonicalize("Program+<>c__DisplayClass0_0"));
            Assert.Equal("<PrivateImplementationDetails>", TypeNameCanonicalizer.Canonicalize("<PrivateImplementationDetails>"));
        }
    }
}

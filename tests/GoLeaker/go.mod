module memoryops/goleaker

go 1.19

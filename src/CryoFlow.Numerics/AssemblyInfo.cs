namespace CryoFlow.Numerics;
